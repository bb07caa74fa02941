/*
 * The plugin's metrics (Prometheus text format, answered to `elasticctl metrics`): VPNs by role,
 * the control requests that make up transfers and takeovers with their durations, and how fresh
 * the kernel counter reports are. Requests are recorded from any of charon's threads.
 */
#ifndef ELASTIC_STATS_H_
#define ELASTIC_STATS_H_

#include <stdbool.h>

#include "elastic_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct elastic_stats_t elastic_stats_t;

elastic_stats_t *elastic_stats_create(void);
void elastic_stats_destroy(elastic_stats_t *stats);

/** Control request `cmd` (its first word) was answered after `seconds`, with an error or not. */
void elastic_stats_request(elastic_stats_t *stats, const char *cmd, bool failed, double seconds);

/** All metrics as exposition text (malloc'ed); `strongswan` is charon's version. */
char *elastic_stats_text(elastic_stats_t *stats, elastic_store_t *store, const char *strongswan);

#ifdef __cplusplus
}
#endif

#endif /* ELASTIC_STATS_H_ */
