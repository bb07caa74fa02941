/*
 * The store's high-availability view: roles (fence/unfence), the set of VPNs to take over for a
 * failed gateway (placement over the live members) and the steering hook's lines.
 */
#ifndef ELASTIC_STORE_HA_H_
#define ELASTIC_STORE_HA_H_

#include "elastic_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Sets the role of a VPN held here (fence/unfence). */
void elastic_store_set_role(elastic_store_t *store, uint32_t ike_uid, elastic_role_t role);

/** The IKE_SA uids of the VPNs held here in `role` (*ids malloc'ed); returns their number. */
size_t elastic_store_with_role(elastic_store_t *store, elastic_role_t role, uint32_t **ids);

/**
 * The passive VPNs that gateway `dead` owned and that this gateway must take over: those whose
 * first alternate among the live members `live` ("name=weight,..."; the dead one excluded) is this
 * node. *ids malloc'ed; returns their number, or -1 with *err set (malloc'ed) for a bad `live`.
 */
int elastic_store_takeover_set(elastic_store_t *store, const char *dead, const char *live,
							   uint32_t **ids, char **err);

/**
 * One line for the steering hook: "VPN_ID OWNER EU_ADDRESS EU_NETS" (EU_NETS: the remote traffic
 * selectors as comma-separated CIDRs/ranges); malloc'ed, NULL if unknown.
 */
char *elastic_store_steer_line(elastic_store_t *store, uint32_t ike_uid);

#ifdef __cplusplus
}
#endif

#endif /* ELASTIC_STORE_HA_H_ */
