/*
 * The plugin's link to the local elastic-syncd (Unix socket): publishes the context of every VPN
 * this gateway owns whenever it changes (and all of them after each connect), and hands the
 * replicas that syncd delivers to a callback that installs them passive. C interface; the loop
 * runs on a strongSwan thread created by the C layer.
 */
#ifndef ELASTIC_SYNCLINK_H_
#define ELASTIC_SYNCLINK_H_

#include "elastic_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct elastic_synclink_t elastic_synclink_t;

/** Called for every replica from syncd: the encoded envelope. */
typedef void (*elastic_replica_cb_t)(void *data, const void *envelope, size_t len);

/**
 * Called for every control request another member sent this plugin (Request frame): the
 * request bytes as on the control socket. Answer with elastic_synclink_respond().
 */
typedef void (*elastic_request_cb_t)(void *data, uint64_t id, const char *from,
									 const void *request, size_t len);

elastic_synclink_t *elastic_synclink_create(const char *socket_path, const char *node,
											elastic_store_t *store, elastic_replica_cb_t cb,
											elastic_request_cb_t request_cb, void *cb_data);

/** Runs until stopped: connect (retrying), publish, deliver replicas. */
void elastic_synclink_run(elastic_synclink_t *link);

/** The kernel counters of owned VPN ike_uid moved: send a counters envelope (coalesced). */
void elastic_synclink_mark_counters(elastic_synclink_t *link, uint32_t ike_uid);

/**
 * Sends a control request ("line\nbody") to member `node`'s plugin through syncd and waits up to
 * timeout_ms for its answer ("OK\n..." or "ERR ...\n", allocated in *answer, wipe and free it).
 * NULL on success, else an allocated error (no link to syncd, no answer in time).
 */
char *elastic_synclink_call(elastic_synclink_t *link, const char *node, const void *request,
							size_t len, int timeout_ms, void **answer, size_t *answer_len);

/** Sends the answer to request `id` from member `to`. */
void elastic_synclink_respond(elastic_synclink_t *link, uint64_t id, const char *to,
							  const void *answer, size_t len);

/** Makes run() return soon. */
void elastic_synclink_stop(elastic_synclink_t *link);

void elastic_synclink_destroy(elastic_synclink_t *link);

#ifdef __cplusplus
}
#endif

#endif /* ELASTIC_SYNCLINK_H_ */
