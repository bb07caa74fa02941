/**
 * Bus listener keeping the store's context of every IKEv2 IKE_SA current: key material when it
 * is derived, a snapshot when SAs come up, change or go, message IDs after every request.
 *
 * @defgroup elastic_listener elastic_listener
 * @{ @ingroup elastic
 */
#ifndef ELASTIC_LISTENER_H_
#define ELASTIC_LISTENER_H_

#include <bus/listeners/listener.h>

#include "elastic_store.h"

typedef struct elastic_listener_t elastic_listener_t;

struct elastic_listener_t {
	/** Implements listener_t. */
	listener_t listener;

	/** Takes a snapshot of ike_sa now (e.g. after an import or a control command). */
	void (*snapshot)(elastic_listener_t *this, ike_sa_t *ike_sa);

	/** Destroys the listener. */
	void (*destroy)(elastic_listener_t *this);
};

elastic_listener_t *elastic_listener_create(elastic_store_t *store);

#endif /** ELASTIC_LISTENER_H_ @}*/
