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

elastic_synclink_t *elastic_synclink_create(const char *socket_path, elastic_store_t *store,
											elastic_replica_cb_t cb, void *cb_data);

/** Runs until stopped: connect (retrying), publish, deliver replicas. */
void elastic_synclink_run(elastic_synclink_t *link);

/** The kernel counters of owned VPN ike_uid moved: send a counters envelope (coalesced). */
void elastic_synclink_mark_counters(elastic_synclink_t *link, uint32_t ike_uid);

/** Makes run() return soon. */
void elastic_synclink_stop(elastic_synclink_t *link);

void elastic_synclink_destroy(elastic_synclink_t *link);

#ifdef __cplusplus
}
#endif

#endif /* ELASTIC_SYNCLINK_H_ */
