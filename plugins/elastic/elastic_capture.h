/**
 * Snapshots an IKE_SA and its installed CHILD_SAs into a context (without key material, which
 * the listener captures separately when it is derived).
 *
 * @defgroup elastic_capture elastic_capture
 * @{ @ingroup elastic
 */
#ifndef ELASTIC_CAPTURE_H_
#define ELASTIC_CAPTURE_H_

#include <sa/ike_sa.h>

#include "elastic_ctx.h"

/** A new context describing ike_sa (NULL for IKEv1). */
elastic_ctx_t *elastic_capture_ike_sa(ike_sa_t *ike_sa);

/** Monotonic charon time to wall-clock seconds (0 stays 0). */
uint64_t elastic_capture_wallclock(time_t monotonic);

#endif /** ELASTIC_CAPTURE_H_ @}*/
