/**
 * High availability in the plugin: takeover of a failed gateway's VPNs from their passive copies
 * (told by elastic-heartbeatd), fencing of this gateway's VPNs when it loses its lease, and the
 * steering hook that moves a VPN's traffic to its new owner.
 *
 * @defgroup elastic_takeover elastic_takeover
 * @{ @ingroup elastic
 */
#ifndef ELASTIC_TAKEOVER_H_
#define ELASTIC_TAKEOVER_H_

#include "elastic_core.h"
#include "elastic_listener.h"
#include "elastic_store.h"

/** Kernel counter reports (charon.plugins.elastic.counters.*): every this many sequence
 * numbers, and at this interval while an SA's counters move; the threshold is also the margin
 * rule's. */
#define ELASTIC_COUNTER_THRESHOLD 1024
#define ELASTIC_COUNTER_INTERVAL_MS 100

/** Defaults of the takeover margin rule (charon.plugins.elastic.takeover.*, docs/ha.md). */
#define ELASTIC_MAX_PPS 1000000
#define ELASTIC_SYNC_LATENCY_MS 100
#define ELASTIC_DETECTION_MS 100
#define ELASTIC_SAFETY 2


/**
 * Activates every passive VPN of gateway `dead` whose first live alternate is this node
 * (`live`: "name=weight,..."), jumping outbound sequence numbers by `margin`, then runs the
 * steering hook once for all of them. *report (malloc'ed): "activated N failed M steer_ms T\n".
 */
char *elastic_takeover(elastic_store_t *store, elastic_listener_t *listener, const char *dead,
					   const char *live, uint64_t margin, const char *steer, char **report);

/**
 * fence: blocks outbound traffic of every VPN owned here (DROP policies above the IPsec ones,
 * IKE_SA silent); unfence: undoes that; drop: forgets the fenced VPNs without a DELETE (they were
 * taken over elsewhere). *report (malloc'ed): "fenced N\n" etc.
 */
typedef enum {
	ELASTIC_FENCE,
	ELASTIC_UNFENCE,
	ELASTIC_DROP_FENCED,
} elastic_fence_op_t;

char *elastic_fence(elastic_store_t *store, elastic_fence_op_t op, char **report);

/**
 * Runs the steering hook once for all VPNs, one line each ("VPN_ID OWNER EU_ADDRESS EU_NETS"):
 * an executable gets them on its standard input; "unix://PATH" is a long-running helper that
 * gets them, then an empty line, and answers "ok" (no process start on the critical path).
 * Returns the milliseconds it took, -1 if it failed (logged).
 */
int elastic_steer(const char *hook, elastic_store_t *store, uint32_t *ids, size_t count);

#endif /** ELASTIC_TAKEOVER_H_ @}*/
