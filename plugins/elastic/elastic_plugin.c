/*
 * The plugin object: registers with charon and logs its version. Listeners, the control socket
 * and the context store hang off this object as they are added.
 */
#include "elastic_plugin.h"
#include "elastic_core.h"

#include <daemon.h>

typedef struct private_elastic_plugin_t private_elastic_plugin_t;

struct private_elastic_plugin_t {
	elastic_plugin_t public;
};

METHOD(plugin_t, get_name, char*,
	private_elastic_plugin_t *this)
{
	return "elastic";
}

static bool plugin_cb(private_elastic_plugin_t *this, plugin_feature_t *feature,
					  bool reg, void *cb_data)
{
	if (reg)
	{
		DBG1(DBG_CFG, "elastic plugin %s (context schema v%d, strongSwan %s) active",
			 elastic_core_version(), elastic_core_schema_version(), VERSION);
	}
	return TRUE;
}

METHOD(plugin_t, get_features, int,
	private_elastic_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK((plugin_feature_callback_t)plugin_cb, NULL),
			PLUGIN_PROVIDE(CUSTOM, "elastic"),
	};
	*features = f;
	return countof(f);
}

METHOD(plugin_t, destroy, void,
	private_elastic_plugin_t *this)
{
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
