/*
 * The plugin object: owns the context store, the bus listener that keeps it current and the
 * control socket, all created when charon registers the plugin's feature.
 */
#include "elastic_plugin.h"
#include "elastic_control.h"
#include "elastic_core.h"
#include "elastic_listener.h"
#include "elastic_store.h"
#include "elastic_sync.h"
#include "elastic_takeover.h"

#include <daemon.h>
#include <unistd.h>

/** Default socket of the control interface (next to charon's pid file). */
#define ELASTIC_SOCKET "unix://" IPSEC_PIDDIR "/charon.elastic"

/** Defaults of the takeover margin rule (docs/ha.md). */
#define ELASTIC_MAX_PPS 1000000
#define ELASTIC_SYNC_LATENCY_MS 100
#define ELASTIC_DETECTION_MS 100
#define ELASTIC_SAFETY 2

typedef struct private_elastic_plugin_t private_elastic_plugin_t;

struct private_elastic_plugin_t {
	elastic_plugin_t public;
	elastic_store_t *store;
	elastic_listener_t *listener;
	elastic_control_t *control;
	elastic_sync_t *sync;
};

METHOD(plugin_t, get_name, char*,
	private_elastic_plugin_t *this)
{
	return "elastic";
}

/** The default outbound sequence-number jump of an activation, from the configured rule. */
static uint64_t takeover_margin(void)
{
	uint64_t margin = 0;
	char *err;

#define KEY(k, d) lib->settings->get_int(lib->settings, "%s.plugins.elastic." k, d, lib->ns)
	err = elastic_margin_rule(KEY("counters.threshold", ELASTIC_COUNTER_THRESHOLD),
							  KEY("takeover.max_pps", ELASTIC_MAX_PPS),
							  KEY("takeover.sync_latency_ms", ELASTIC_SYNC_LATENCY_MS),
							  KEY("takeover.detection_ms", ELASTIC_DETECTION_MS),
							  KEY("takeover.safety", ELASTIC_SAFETY), KEY("margin", 0), &margin);
#undef KEY
	if (err)
	{	/* never a wrapped value: the largest jump the kernel helper accepts for ESN */
		DBG1(DBG_CFG, "elastic: %s, using 2^31 - 1", err);
		free(err);
		margin = (1ULL << 31) - 1;
	}
	return margin;
}

static void start(private_elastic_plugin_t *this)
{
	char host[256] = "", *node, *uri, *steer;
	uint64_t margin;

	gethostname(host, sizeof(host) - 1);
	node = lib->settings->get_str(lib->settings, "%s.plugins.elastic.node", host, lib->ns);
	uri = lib->settings->get_str(lib->settings, "%s.plugins.elastic.socket", ELASTIC_SOCKET,
								 lib->ns);
	margin = takeover_margin();
	steer = lib->settings->get_str(lib->settings, "%s.plugins.elastic.steer", NULL, lib->ns);
	this->store = elastic_store_create(node);
	this->listener = elastic_listener_create(this->store);
	charon->bus->add_listener(charon->bus, &this->listener->listener);
	this->control = elastic_control_create(this->store, this->listener, uri, margin, steer);
	this->sync = elastic_sync_create(this->store, this->listener);
	DBG1(DBG_CFG, "elastic plugin %s (context schema v%d, strongSwan %s) active, node '%s', "
		 "takeover margin %llu", elastic_core_version(), elastic_core_schema_version(), VERSION,
		 node, (unsigned long long)margin);
}

static void stop(private_elastic_plugin_t *this)
{
	DESTROY_IF(this->sync);
	DESTROY_IF(this->control);
	if (this->listener)
	{
		charon->bus->remove_listener(charon->bus, &this->listener->listener);
		this->listener->destroy(this->listener);
	}
	if (this->store)
	{
		elastic_store_destroy(this->store);
	}
	this->sync = NULL;
	this->control = NULL;
	this->listener = NULL;
	this->store = NULL;
}

static bool plugin_cb(private_elastic_plugin_t *this, plugin_feature_t *feature,
					  bool reg, void *cb_data)
{
	if (reg)
	{
		start(this);
	}
	else
	{
		stop(this);
	}
	return TRUE;
}

METHOD(plugin_t, get_features, int,
	private_elastic_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK((plugin_feature_callback_t)plugin_cb, NULL),
			PLUGIN_PROVIDE(CUSTOM, "elastic"),
				PLUGIN_DEPENDS(CUSTOM, "kernel-ipsec"),
	};
	*features = f;
	return countof(f);
}

METHOD(plugin_t, destroy, void,
	private_elastic_plugin_t *this)
{
	stop(this);
	free(this);
}

plugin_t *elastic_plugin_create()
{
	private_elastic_plugin_t *this;

	INIT(this,
		.public = {
			.plugin = {
				.get_name = _get_name,
				.get_features = _get_features,
				.destroy = _destroy,
			},
		},
	);
	return &this->public.plugin;
}
