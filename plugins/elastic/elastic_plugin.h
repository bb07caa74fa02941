/**
 * @defgroup elastic elastic
 * @ingroup cplugins
 *
 * Elastic IPsec gateways: capture, replicate and rebuild live VPNs on another gateway.
 *
 * @defgroup elastic_plugin elastic_plugin
 * @{ @ingroup elastic
 */
#ifndef ELASTIC_PLUGIN_H_
#define ELASTIC_PLUGIN_H_

#include <plugins/plugin.h>

typedef struct elastic_plugin_t elastic_plugin_t;

/** Plugin entry point object. */
struct elastic_plugin_t {
	/** Implements plugin interface. */
	plugin_t plugin;
};

/** Constructor, exported for charon's plugin loader. */
plugin_t *elastic_plugin_create(void) __attribute__((visibility("default")));

#endif /** ELASTIC_PLUGIN_H_ @}*/
