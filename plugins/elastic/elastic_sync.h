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
typedef struct elastic_control_t elastic_control_t;

struct elastic_sync_t {

	/**
	 * Runs a control request ("line\nbody") on member `node` (through syncd) and waits for its
	 * answer ("OK\n..." / "ERR ...\n", allocated, to be wiped); NULL or an allocated error.
	 */
	char *(*call)(elastic_sync_t *this, const char *node, chunk_t request, chunk_t *answer);

	void (*destroy)(elastic_sync_t *this);
};

/** NULL if no syncd socket is configured. */
elastic_sync_t *elastic_sync_create(elastic_store_t *store, elastic_listener_t *listener,
									elastic_config_t *config, elastic_control_t *control);

#endif /** ELASTIC_SYNC_H_ @}*/
