/**
 * The plugin's control socket (vici cannot be extended): a Unix stream socket, mode 0600, that
 * elasticctl talks to. One request per connection: a 4-byte big-endian length, then a command
 * line ("list", "export id:7", "import passive", "activate name:rw 1024", "release id:7") and,
 * for import/activate, the envelope bytes after the newline. The answer has the same framing:
 * "OK\n" followed by a payload, or "ERR <reason>\n".
 *
 * @defgroup elastic_control elastic_control
 * @{ @ingroup elastic
 */
#ifndef ELASTIC_CONTROL_H_
#define ELASTIC_CONTROL_H_

#include "elastic_config.h"
#include "elastic_listener.h"
#include "elastic_store.h"

typedef struct elastic_control_t elastic_control_t;
typedef struct elastic_sync_t elastic_sync_t;

/** Sends the answer to a request from another member (execute_remote()). */
typedef void (*elastic_control_respond_t)(void *data, chunk_t answer);

struct elastic_control_t {

	/**
	 * Runs a control request ("line\nbody") that member `from` sent through syncd, as the socket
	 * would (only a transfer's steps: list, export, release, import, activate, steer), and hands
	 * the answer as on the socket ("OK\n..." / "ERR ...\n") to respond() before any clean-up
	 * that need not delay it (a release's).
	 */
	void (*execute_remote)(elastic_control_t *this, chunk_t request, const char *from,
						   elastic_control_respond_t respond, void *data);

	/** Where `remote NODE` requests go (NULL: refused, not attached to syncd). */
	void (*set_sync)(elastic_control_t *this, elastic_sync_t *sync);

	void (*destroy)(elastic_control_t *this);
};

/**
 * NULL if the socket cannot be created (logged). Clients are served MAX_CLIENTS at a time with
 * a 5 s I/O bound; only root, charon's user and config->control_group are admitted.
 */
elastic_control_t *elastic_control_create(elastic_store_t *store, elastic_listener_t *listener,
										  elastic_config_t *config);

#endif /** ELASTIC_CONTROL_H_ @}*/
