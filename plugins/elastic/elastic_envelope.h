/*
 * The store's VPNs as sync envelopes and back: export (with kernel counters), counters envelopes,
 * decoding and peeking at envelopes, refreshing passive copies from replicas, and the check of a
 * released (final) context before activation.
 */
#ifndef ELASTIC_ENVELOPE_H_
#define ELASTIC_ENVELOPE_H_

#include "elastic_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Kind (elastic.v1.EnvelopeKind), VPN id and origin node (both malloc'ed) and epoch of a valid
 * envelope, or an error text.
 */
char *elastic_envelope_peek(const void *data, size_t len, int *kind, char **vpn_id, char **origin,
							uint64_t *epoch);

/**
 * Decodes and validates an envelope for import. On success returns NULL and sets *ctx (owned by
 * the caller), *vpn_id (malloc'ed), *epoch and *version; else returns a malloc'ed error text.
 */
char *elastic_envelope_decode(const void *data, size_t len, elastic_ctx_t **ctx, char **vpn_id,
							  uint64_t *epoch, uint64_t *version);

/**
 * The VPN as a sync envelope (kind upsert) with its ESP counters read from the kernel now;
 * malloc'ed into *out (the caller wipes and frees it). An error text (malloc'ed) or NULL.
 */
char *elastic_store_export(elastic_store_t *store, uint32_t ike_uid, unsigned char **out,
						   size_t *len);

/**
 * The same for release, once the VPN's outbound traffic is blocked: marked outbound_stopped (the
 * counters are final, the next owner continues at exactly the next sequence number).
 */
char *elastic_store_export_final(elastic_store_t *store, uint32_t ike_uid, unsigned char **out,
								 size_t *len);

/** Whether a (valid) envelope is such a final one. */
bool elastic_envelope_outbound_stopped(const void *data, size_t len);

/**
 * The VPN's ESP counters as a sync envelope (kind counters: message IDs and the replay state of
 * every CHILD_SA as last reported by the kernel); bumps the VPN's version. An error text or NULL.
 */
char *elastic_store_counters(elastic_store_t *store, uint32_t ike_uid, unsigned char **out,
							 size_t *len);

/**
 * A replica from syncd for a VPN held here passive. Returns 1 if it was applied to the stored
 * context (same SAs: newer message IDs/counters), 0 if it is not newer, -1 if its SAs differ
 * (rekeyed on the owner: the caller re-imports it).
 */
int elastic_store_refresh_passive(elastic_store_t *store, uint32_t ike_uid, const void *envelope,
								  size_t len);

/**
 * Checks that a final envelope (from release) describes the passive VPN ike_uid: same VPN id and
 * the same SAs. An error text or NULL.
 */
char *elastic_store_check_final(elastic_store_t *store, uint32_t ike_uid, const elastic_ctx_t *ctx,
								const char *vpn_id);

/**
 * Sets the replay state of the kernel SAs of CHILD_SA `index` of ctx: outbound oseq jumped
 * forward by `margin` past the context's value, inbound seq/bitmap as in the context (never
 * backwards). A malloc'ed error text or NULL.
 */
char *elastic_set_counters(const elastic_ctx_t *ctx, int index, uint64_t margin);

#ifdef __cplusplus
}
#endif

#endif /* ELASTIC_ENVELOPE_H_ */
