/*
 * The plugin object: owns the context store, the bus listener that keeps it current and the
 * control socket, all created when charon registers the plugin's feature.
 */
#include "elastic_plugin.h"
#include "elastic_config.h"
#include "elastic_control.h"
#include "elastic_core.h"
#include "elastic_import.h"
#include "elastic_listener.h"
#include "elastic_store.h"
#include "elastic_sync.h"
#include "elastic_takeover.h"

#include <daemon.h>
#include <unistd.h>

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

/** The C++ core's messages (protobuf's) into charon's log, group CFG. */
static void log_core(int level, const char *msg)
{
	if (level <= 1)
	{
		DBG1(DBG_CFG, "%s", msg);
	}
	else
	{
		DBG2(DBG_CFG, "%s", msg);
	}
}

static bool start(private_elastic_plugin_t *this)
{
	elastic_config_t config;

	if (!elastic_config_load(&config))
	{
		DBG1(DBG_CFG, "elastic: plugin not started, fix the settings above");
		return FALSE;
	}
	elastic_core_set_log(log_core);
	this->store = elastic_store_create(config.node);
	this->listener = elastic_listener_create(this->store);
	charon->bus->add_listener(charon->bus, &this->listener->listener);
	this->control = elastic_control_create(this->store, this->listener, &config);
	this->sync = elastic_sync_create(this->store, this->listener, &config, this->control);
	if (this->control)
	{	/* `remote NODE` requests go through syncd */
		this->control->set_sync(this->control, this->sync);
	}
	DBG1(DBG_CFG, "elastic plugin %s (context schema v%d, strongSwan %s) active, node '%s', "
		 "takeover margin %llu", elastic_core_version(), elastic_core_schema_version(), VERSION,
		 config.node, (unsigned long long)config.margin);
	elastic_import_check_barrier();
	return TRUE;
}

static void stop(private_elastic_plugin_t *this)
{
	if (this->control)
	{	/* no new `remote` requests into the link that goes next */
		this->control->set_sync(this->control, NULL);
	}
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
	elastic_core_set_log(NULL);
}

static bool plugin_cb(private_elastic_plugin_t *this, plugin_feature_t *feature,
					  bool reg, void *cb_data)
{
	if (reg)
	{
		return start(this);
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
