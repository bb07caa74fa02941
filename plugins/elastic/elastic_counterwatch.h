/*
 * Keeps the replicas' ESP counters fresh: subscribes to the kernel's replay-state reports
 * (XFRMNLGRP_AEVENTS), gives every SA of a VPN owned here a report threshold (every `packets`
 * sequence numbers, and every `interval_ms` while it moves), merges each report into the VPN's
 * context and tells the sync link, which sends a counters envelope to the alternates.
 */
#ifndef ELASTIC_COUNTERWATCH_H_
#define ELASTIC_COUNTERWATCH_H_

#include "elastic_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct elastic_counterwatch_t elastic_counterwatch_t;

/** Called (on the watcher's thread) with the IKE_SA uid of an owned VPN whose counters moved. */
typedef void (*elastic_counter_cb_t)(void *data, uint32_t ike_uid);

/** NULL with *err (malloc'ed) if the kernel's event group cannot be joined. */
elastic_counterwatch_t *elastic_counterwatch_create(elastic_store_t *store, uint32_t packets,
													uint32_t interval_ms, elastic_counter_cb_t cb,
													void *data, char **err);

/** Handles reports until elastic_counterwatch_stop() (blocking: run it on its own thread). */
void elastic_counterwatch_run(elastic_counterwatch_t *watch);
void elastic_counterwatch_stop(elastic_counterwatch_t *watch);
void elastic_counterwatch_destroy(elastic_counterwatch_t *watch);

#ifdef __cplusplus
}
#endif

#endif /* ELASTIC_COUNTERWATCH_H_ */
