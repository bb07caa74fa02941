/**
 * The plugin's settings (charon.plugins.elastic.*), read once at start and checked: numbers by
 * the strict parser, unknown keys refused, the control socket a unix:// URI. A setting that is
 * wrong stops the plugin with a log line naming the key, instead of running with a guess.
 *
 * @defgroup elastic_config elastic_config
 * @{ @ingroup elastic
 */
#ifndef ELASTIC_CONFIG_H_
#define ELASTIC_CONFIG_H_

#include <library.h>

typedef struct {
	char *node;				/**< this gateway's cluster name */
	char *socket;			/**< control socket URI, unix:// only */
	char *control_group;	/**< group also allowed on the control socket, or NULL */
	char *steer;			/**< steering hook, or NULL */
	char *syncd_socket;		/**< local elastic-syncd socket, or NULL */
	uint64_t margin;		/**< default outbound sequence-number jump of an activation */
	uint64_t threshold;		/**< kernel counter report every this many packets */
	uint64_t interval_ms;	/**< and at this interval while counters move */
} elastic_config_t;

/**
 * Reads and checks the settings into *config (strings are borrowed from lib->settings).
 * FALSE, with each problem logged, if any setting is wrong.
 */
bool elastic_config_load(elastic_config_t *config);

#endif /** ELASTIC_CONFIG_H_ @}*/
