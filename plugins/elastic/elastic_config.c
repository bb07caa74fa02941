#include "elastic_config.h"
#include "elastic_core.h"
#include "elastic_takeover.h"

#include <daemon.h>

#define PREFIX "%s.plugins.elastic"
#define ELASTIC_SOCKET "unix://" IPSEC_PIDDIR "/charon.elastic"

/** Every key the plugin reads, relative to charon.plugins.elastic ("load" is strongSwan's). */
static const char *known_keys[] = {
	"load", "node", "socket", "control_group", "steer", "syncd_socket", "margin",
	"counters.threshold", "counters.interval_ms", "takeover.max_pps",
	"takeover.sync_latency_ms", "takeover.detection_ms", "takeover.safety",
};

/**
 * Logs a problem with setting charon.plugins.elastic.KEY, prefixed with the file and line it was
 * written at (strongswan.conf and its includes) when that can be found.
 */
static void config_error(const char *key, const char *fmt, ...)
{
	char full[160], *where, *msg = NULL;
	va_list args;

	snprintf(full, sizeof(full), "%s.plugins.elastic.%s", lib->ns, key);
	va_start(args, fmt);
	if (vasprintf(&msg, fmt, args) < 0)
	{
		msg = NULL;
	}
	va_end(args);
	where = elastic_settings_where(lib->conf, full);
	DBG1(DBG_CFG, "elastic: %s%s%s", where ?: "", where ? ": " : "", msg ?: key);
	free(where);
	free(msg);
}

static bool known(const char *key)
{
	u_int i;

	for (i = 0; i < countof(known_keys); i++)
	{
		if (streq(key, known_keys[i]))
		{
			return TRUE;
		}
	}
	return FALSE;
}

/** Checks the keys of one section (NULL: the plugin's own) against the known ones. */
static bool check_section(const char *section)
{
	enumerator_t *e;
	char *key, *value, full[128];
	bool ok = TRUE;

	e = section ? lib->settings->create_key_value_enumerator(lib->settings, PREFIX ".%s",
															 lib->ns, section)
				: lib->settings->create_key_value_enumerator(lib->settings, PREFIX, lib->ns);
	while (e->enumerate(e, &key, &value))
	{
		snprintf(full, sizeof(full), "%s%s%s", section ?: "", section ? "." : "", key);
		if (!known(full))
		{
			config_error(full, "unknown setting charon.plugins.elastic.%s", full);
			ok = FALSE;
		}
	}
	e->destroy(e);
	return ok;
}

static bool check_keys(void)
{
	enumerator_t *e;
	char *section;
	bool ok = check_section(NULL);

	e = lib->settings->create_section_enumerator(lib->settings, PREFIX, lib->ns);
	while (e->enumerate(e, &section))
	{
		if (!streq(section, "counters") && !streq(section, "takeover"))
		{
			config_error(section, "unknown section charon.plugins.elastic.%s", section);
			ok = FALSE;
			continue;
		}
		ok = check_section(section) && ok;
	}
	e->destroy(e);
	return ok;
}

/** A number setting in min..max, the default if unset; FALSE (logged) if malformed. */
static bool number(const char *key, uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
	char *value, *err, what[128], path[128];

	/* the key spelled out: a "%s" argument is one path segment, its dots are not separators */
	snprintf(path, sizeof(path), "%%s.plugins.elastic.%s", key);
	value = lib->settings->get_str(lib->settings, path, NULL, lib->ns);
	if (!value)
	{
		*out = def;
		return TRUE;
	}
	snprintf(what, sizeof(what), "charon.plugins.elastic.%s", key);
	err = elastic_parse_u64(value, what, min, max, out);
	if (err)
	{
		config_error(key, "%s", err);
		free(err);
		return FALSE;
	}
	return TRUE;
}

/** The margin rule's inputs; its overflow check refuses what would wrap. */
static bool margin(elastic_config_t *c)
{
	uint64_t pps, latency, detection, safety, floor;
	char *err;

	if (!number("takeover.max_pps", ELASTIC_MAX_PPS, 1, UINT32_MAX, &pps) ||
		!number("takeover.sync_latency_ms", ELASTIC_SYNC_LATENCY_MS, 0, 3600000, &latency) ||
		!number("takeover.detection_ms", ELASTIC_DETECTION_MS, 0, 3600000, &detection) ||
		!number("takeover.safety", ELASTIC_SAFETY, 1, 1000, &safety) ||
		!number("margin", 0, 0, UINT32_MAX, &floor))
	{
		return FALSE;
	}
	err = elastic_margin_rule(c->threshold, pps, latency, detection, safety, floor, &c->margin);
	if (err)
	{
		DBG1(DBG_CFG, "elastic: the takeover margin %s", err);
		free(err);
		return FALSE;
	}
	return TRUE;
}

bool elastic_config_load(elastic_config_t *c)
{
	static char host[256];
	bool ok = check_keys();

	gethostname(host, sizeof(host) - 1);
	*c = (elastic_config_t){
		.node = lib->settings->get_str(lib->settings, PREFIX ".node", host, lib->ns),
		.socket = lib->settings->get_str(lib->settings, PREFIX ".socket", ELASTIC_SOCKET,
										 lib->ns),
		.control_group = lib->settings->get_str(lib->settings, PREFIX ".control_group", NULL,
												lib->ns),
		.steer = lib->settings->get_str(lib->settings, PREFIX ".steer", NULL, lib->ns),
		.syncd_socket = lib->settings->get_str(lib->settings, PREFIX ".syncd_socket", NULL,
											   lib->ns),
	};
	if (!strpfx(c->socket, "unix://"))
	{	/* a network-reachable socket would export keys to the network */
		config_error("socket", "charon.plugins.elastic.socket '%s' is not a unix:// URI",
					 c->socket);
		ok = FALSE;
	}
	ok = number("counters.threshold", ELASTIC_COUNTER_THRESHOLD, 1, UINT32_MAX, &c->threshold) &&
		 ok;
	ok = number("counters.interval_ms", ELASTIC_COUNTER_INTERVAL_MS, 1, 3600000,
				&c->interval_ms) && ok;
	return margin(c) && ok;
}
