/**
 * Rebuilds a VPN from a context (import), makes a passive one responsible (activate) and hands
 * one over (release).
 *
 * Passive: the IKE_SA exists in IKE_PASSIVE state (keys derived, message IDs set; it neither
 * sends nor answers), its CHILD_SAs' kernel SAs are installed with the context's counters but
 * without policies, so nothing is ever sent on them. Activate: counters jumped past anything the
 * previous owner can have sent, policies installed, IKE_SA established (timers, DPD).
 *
 * @defgroup elastic_import elastic_import
 * @{ @ingroup elastic
 */
#ifndef ELASTIC_IMPORT_H_
#define ELASTIC_IMPORT_H_

#include "elastic_listener.h"
#include "elastic_store.h"

/**
 * Imports an encoded envelope. On success returns NULL and sets *uid to the new IKE_SA's unique
 * id; else a malloc'ed error text (nothing has changed). A passive import of a VPN already held
 * here passive (a replica from elastic-syncd) refreshes and reuses that copy (*uid is its id), so
 * that a planned transfer works in a cluster that replicates; if its SAs changed meanwhile
 * (rekeyed on the owner), the copy is rebuilt.
 */
char* elastic_import(elastic_store_t* store, elastic_listener_t* listener, const void* data, size_t len, bool active,
                     uint64_t margin, uint32_t* uid);

/**
 * Activates passive VPN uid. `final`, if given, is the previous owner's envelope from release
 * (exact message IDs and counters); else the last synced context is used. The outbound sequence
 * numbers are advanced by margin beyond the context's values.
 */
char* elastic_activate(elastic_store_t* store, elastic_listener_t* listener, uint32_t uid, const void* final,
                       size_t final_len, uint64_t margin);

/** A released VPN not yet cleaned up here (elastic_release_finish()). */
typedef struct elastic_released_t elastic_released_t;

/**
 * Releases VPN uid: stops its outbound, exports it with its final message IDs and counters (*out,
 * malloc'ed) and forgets it here. Its IKE_SA stays checked out (fenced: nothing uses it) in
 * *released until elastic_release_finish() removes it without telling the EU (no DELETE): the
 * caller answers first, so that the next owner's activation does not wait for the clean-up.
 */
char* elastic_release(elastic_store_t* store, elastic_listener_t* listener, uint32_t uid, unsigned char** out,
                      size_t* len, elastic_released_t** released);

/** Destroys a released VPN's IKE_SA, kernel SAs and policies here (NULL: nothing). */
void elastic_release_finish(elastic_released_t* released);

/**
 * Drops VPN uid here without telling the EU (no DELETE); its kernel SAs go with it, nothing is
 * published (it lives on elsewhere).
 */
void elastic_drop_local(elastic_store_t* store, uint32_t uid);

/**
 * Adds (or removes) a passive CHILD_SA's policies: outbound DROP policies that keep its traffic
 * from leaving this gateway, encrypted or not, and low-priority inbound IPsec policies that
 * accept the EU's traffic once it is steered here, before activation.
 */
void elastic_import_passive_policies(ike_sa_t* ike_sa, child_sa_t* child_sa, bool add);

/**
 * Adds (or removes) outbound DROP policies that take precedence over the CHILD_SA's IPsec
 * policies: a fenced VPN sends nothing, encrypted or not.
 */
void elastic_import_fence_outbound(ike_sa_t* ike_sa, child_sa_t* child_sa, bool add);

/** The same for every CHILD_SA of ike_sa. */
void elastic_import_fence_all(ike_sa_t* ike_sa, bool add);

/**
 * Logs (level 1) when a release's wait for packets in flight takes a full RCU grace period
 * (/sys/kernel/rcu_expedited is 0): the VPN's outbound is stopped for that long in a transfer.
 */
void elastic_import_check_barrier(void);

#endif /** ELASTIC_IMPORT_H_ @}*/
