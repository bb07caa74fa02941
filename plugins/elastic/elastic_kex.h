/**
 * A key_exchange_t that only knows a shared secret: lets keymat_v2 re-derive an IKE_SA's keys
 * from an imported context exactly as the original key exchange did.
 *
 * @defgroup elastic_kex elastic_kex
 * @{ @ingroup elastic
 */
#ifndef ELASTIC_KEX_H_
#define ELASTIC_KEX_H_

#include <crypto/key_exchange.h>

/** Creates it; the secret is cloned and wiped on destroy. */
key_exchange_t *elastic_kex_create(chunk_t secret, key_exchange_method_t method);

#endif /** ELASTIC_KEX_H_ @}*/
