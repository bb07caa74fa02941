/*
 * The plugin's context store: the current context of every VPN (IKE_SA) this charon holds, with
 * its per-VPN version, plus the key material captured by the listener until the IKE_SA or
 * CHILD_SA it belongs to is complete. Thread-safe (charon's listener hooks run on many threads).
 * Key material is wiped when it is dropped.
 */
#ifndef ELASTIC_STORE_H_
#define ELASTIC_STORE_H_

#include "elastic_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct elastic_store_t elastic_store_t;

/** How a VPN is held here. */
typedef enum {
	ELASTIC_ROLE_ACTIVE = 0,   /* this gateway owns it */
	ELASTIC_ROLE_PASSIVE = 1,  /* hot standby: SAs installed, no policies, IKE_SA silent */
	ELASTIC_ROLE_FENCED = 2,   /* was active, this gateway lost its lease: outbound blocked */
} elastic_role_t;

elastic_store_t *elastic_store_create(const char *node);
void elastic_store_destroy(elastic_store_t *store);

/** Key material of an IKE_SA being created (old_skd empty unless it came from a rekey). */
void elastic_store_ike_keys(elastic_store_t *store, uint32_t ike_uid, elastic_buf_t secret,
							elastic_buf_t nonce_i, elastic_buf_t nonce_r, elastic_buf_t old_skd,
							uint32_t old_prf);

/** Raw keys of a CHILD_SA being created (i: initiator to responder; initiator: we created it). */
void elastic_store_child_keys(elastic_store_t *store, uint32_t child_uid, bool initiator, elastic_buf_t encr_i,
							  elastic_buf_t integ_i, elastic_buf_t encr_r, elastic_buf_t integ_r);

/**
 * A fresh snapshot of an IKE_SA and its CHILD_SAs without keys (consumed). The store adds the
 * captured keys, keeps the VPN's id and message IDs, and bumps its version.
 */
void elastic_store_update(elastic_store_t *store, uint32_t ike_uid, elastic_ctx_t *snapshot,
						  elastic_role_t role);

/** Message IDs after an exchange (next to send, next expected). */
void elastic_store_message_ids(elastic_store_t *store, uint32_t ike_uid, uint32_t initiate,
							   uint32_t respond);

/** A CHILD_SA is being destroyed: wipe its captured keys. */
void elastic_store_child_gone(elastic_store_t *store, uint32_t child_uid);

/**
 * Serializes operations that change which VPNs this charon holds (import, activate, release,
 * replicas from syncd), so that e.g. a replica cannot replace a VPN being activated.
 */
void elastic_store_op_lock(elastic_store_t *store);
void elastic_store_op_unlock(elastic_store_t *store);

/** The VPN's ownership epoch here (0 if unknown). */
uint64_t elastic_store_epoch(elastic_store_t *store, uint32_t ike_uid);

/** The IKE_SA was rekeyed: the VPN continues under the new IKE_SA. */
void elastic_store_rekeyed(elastic_store_t *store, uint32_t old_uid, uint32_t new_uid);

/**
 * Sets the VPN id, epoch and owner (the envelope's origin node) of an imported VPN (keeps the
 * origin's identity).
 */
void elastic_store_adopt(elastic_store_t *store, uint32_t ike_uid, const char *vpn_id,
						 const char *origin, uint64_t epoch, uint64_t version);

/** A copy of the VPN's context (with keys) and its epoch; a malloc'ed error text or NULL. */
char *elastic_store_context(elastic_store_t *store, uint32_t ike_uid, elastic_ctx_t **ctx,
							uint64_t *epoch);

/** The VPN is now owned here: role active, ownership epoch `epoch`. */
void elastic_store_activated(elastic_store_t *store, uint32_t ike_uid, uint64_t epoch);

/**
 * The IKE_SA is gone: drop it and its keys. If it was owned here, a delete is queued for syncd
 * (the VPN ended); with `released`, it lives on elsewhere and nothing is published.
 */
void elastic_store_remove(elastic_store_t *store, uint32_t ike_uid);
void elastic_store_release(elastic_store_t *store, uint32_t ike_uid);

/** Takes the next queued delete envelope (malloc'ed into *out); FALSE if none. */
bool elastic_store_take_delete(elastic_store_t *store, unsigned char **out, size_t *len);

/** Role of a VPN; -1 if unknown. */
int elastic_store_role(elastic_store_t *store, uint32_t ike_uid);

/** IKE_SA unique id of the first VPN whose connection is `name`, 0 if none. */
uint32_t elastic_store_find(elastic_store_t *store, const char *name);

/** Called with the IKE_SA uid whenever a VPN owned here changes (NULL to stop). */
void elastic_store_set_observer(elastic_store_t *store, void (*cb)(void *data, uint32_t ike_uid),
								void *data);

/** The IKE_SA uids of the VPNs owned here (*ids malloc'ed); returns their number. */
size_t elastic_store_owned(elastic_store_t *store, uint32_t **ids);

/** The IKE_SA uid holding VPN vpn_id here, 0 if none. */
uint32_t elastic_store_find_vpn(elastic_store_t *store, const char *vpn_id);

/** One line per VPN for `elasticctl list` (malloc'ed, no key material). */
char *elastic_store_list(elastic_store_t *store);

/** For the metrics: what the store holds and how fresh its counters are. */
typedef struct {
	size_t roles[3];			/**< VPNs by elastic_role_t */
	uint64_t counter_reports;	/**< kernel counter reports merged into owned VPNs */
	double last_report;			/**< Unix time of the last one, 0 if none */
} elastic_store_stats_t;

void elastic_store_stats(elastic_store_t *store, elastic_store_stats_t *stats);

#ifdef __cplusplus
}
#endif

#endif /* ELASTIC_STORE_H_ */
