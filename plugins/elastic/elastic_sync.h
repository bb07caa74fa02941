/**
 * Connects the plugin to the local elastic-syncd (charon.plugins.elastic.syncd_socket): publishes
 * the VPNs owned here, installs the replicas it delivers passive, keeps passive ones current.
 *
 * @defgroup elastic_sync elastic_sync
 * @{ @ingroup elastic
 */
#ifndef ELASTIC_SYNC_H_
#define ELASTIC_SYNC_H_

#include "elastic_config.h"
#include "elastic_listener.h"
#include "elastic_store.h"

typedef struct elastic_sync_t elastic_sync_t;

struct elastic_sync_t {
	void (*destroy)(elastic_sync_t *this);
};

/** NULL if no syncd socket is configured. */
elastic_sync_t *elastic_sync_create(elastic_store_t *store, elastic_listener_t *listener,
									elastic_config_t *config);

#endif /** ELASTIC_SYNC_H_ @}*/
