#include "elastic_control.h"
#include "elastic_import.h"
#include "elastic_takeover.h"

#include <daemon.h>
#include <sys/stat.h>
#include <unistd.h>

/** Largest request: an envelope (1 MiB) plus the command line. */
#define MAX_REQUEST ((1 << 20) + 1024)

typedef struct private_elastic_control_t private_elastic_control_t;

struct private_elastic_control_t {
	elastic_control_t public;
	elastic_store_t *store;
	elastic_listener_t *listener;
	stream_service_t *service;
	uint64_t margin;
	char *steer;
};

/** An answer: status line plus optional payload (wiped after sending). */
typedef struct {
	char *error;
	unsigned char *payload;
	size_t len;
} answer_t;

static uint32_t select_vpn(private_elastic_control_t *this, const char *sel, answer_t *a)
{
	uint32_t uid = 0;

	if (sel && strpfx(sel, "id:"))
	{
		uid = strtoul(sel + 3, NULL, 10);
	}
	else if (sel && strpfx(sel, "name:"))
	{
		uid = elastic_store_find(this->store, sel + 5);
	}
	if (!uid || elastic_store_role(this->store, uid) < 0)
	{
		if (asprintf(&a->error, "no VPN matches '%s'", sel ?: "") < 0)
		{
			a->error = NULL;
		}
		return 0;
	}
	return uid;
}

static uint64_t margin_arg(private_elastic_control_t *this, const char *arg)
{
	return arg ? strtoull(arg, NULL, 10) : this->margin;
}

static void dispatch_locked(private_elastic_control_t *this, char *line, chunk_t body, answer_t *a);

/** Runs a command while no replica from syncd can change the VPNs held here. */
static void dispatch(private_elastic_control_t *this, char *line, chunk_t body, answer_t *a)
{
	elastic_store_op_lock(this->store);
	dispatch_locked(this, line, body, a);
	elastic_store_op_unlock(this->store);
}

static void dispatch_locked(private_elastic_control_t *this, char *line, chunk_t body, answer_t *a)
{
	char *save = NULL, *cmd = strtok_r(line, " ", &save), *arg1 = strtok_r(NULL, " ", &save),
		 *arg2 = strtok_r(NULL, " ", &save), *arg3 = strtok_r(NULL, " ", &save),
		 *arg4 = strtok_r(NULL, " ", &save);
	uint32_t uid;
	char *text;

	if (streq(cmd ?: "", "list"))
	{
		text = elastic_store_list(this->store);
		a->payload = (unsigned char*)text;
		a->len = strlen(text);
	}
	else if (streq(cmd ?: "", "export") && (uid = select_vpn(this, arg1, a)))
	{
		a->error = elastic_store_export(this->store, uid, &a->payload, &a->len);
	}
	else if (streq(cmd ?: "", "release") && (uid = select_vpn(this, arg1, a)))
	{
		a->error = elastic_release(this->store, this->listener, uid, &a->payload, &a->len);
	}
	else if (streq(cmd ?: "", "import"))
	{
		if (!arg1 || (!streq(arg1, "passive") && !streq(arg1, "active")))
		{
			a->error = strdup("import needs a mode: passive or active");
			return;
		}
		a->error = elastic_import(this->store, this->listener, body.ptr, body.len,
								  streq(arg1, "active"), margin_arg(this, arg2), &uid);
		if (!a->error && asprintf(&text, "ike-id %u\n", uid) > 0)
		{
			a->payload = (unsigned char*)text;
			a->len = strlen(text);
		}
	}
	else if (streq(cmd ?: "", "activate") && (uid = select_vpn(this, arg1, a)))
	{
		a->error = elastic_activate(this->store, this->listener, uid,
									body.len ? body.ptr : NULL, body.len, margin_arg(this, arg2));
		if (!a->error)
		{
			elastic_steer(this->steer, this->store, &uid, 1);
		}
	}
	else if (streq(cmd ?: "", "takeover"))
	{	/* from elastic-heartbeatd: takeover NODE VIEW_EPOCH REPLICAS LIVE */
		if (!arg1 || !arg2 || !arg3 || !arg4)
		{
			a->error = strdup("usage: takeover NODE EPOCH REPLICAS LIVE(name=weight,...)");
			return;
		}
		DBG1(DBG_CFG, "elastic: gateway %s is down (view epoch %s), taking over its VPNs",
			 arg1, arg2);
		a->error = elastic_takeover(this->store, this->listener, arg1, arg4, this->margin,
									this->steer, &text);
		if (!a->error && text)
		{
			a->payload = (unsigned char*)text;
			a->len = strlen(text);
		}
	}
	else if (streq(cmd ?: "", "fence") || streq(cmd ?: "", "unfence") ||
			 streq(cmd ?: "", "drop-fenced"))
	{
		a->error = elastic_fence(this->store, streq(cmd, "fence") ? ELASTIC_FENCE :
								 streq(cmd, "unfence") ? ELASTIC_UNFENCE : ELASTIC_DROP_FENCED,
								 &text);
		if (!a->error && text)
		{
			a->payload = (unsigned char*)text;
			a->len = strlen(text);
		}
	}
	else if (!a->error && asprintf(&a->error, "unknown command '%s'", cmd ?: "") < 0)
	{
		a->error = NULL;
	}
}

static bool send_answer(stream_t *stream, answer_t *a)
{
	char head[4 + 8];
	uint32_t total;
	const char *status = a->error ? "ERR " : "OK\n";
	bool ok;

	total = strlen(status) + (a->error ? strlen(a->error) + 1 : a->len);
	htoun32(head, total);
	ok = stream->write_all(stream, head, 4) &&
		 stream->write_all(stream, (void*)status, strlen(status));
	if (a->error)
	{
		ok = ok && stream->write_all(stream, a->error, strlen(a->error)) &&
			 stream->write_all(stream, "\n", 1);
	}
	else if (a->len)
	{
		ok = ok && stream->write_all(stream, a->payload, a->len);
	}
	return ok;
}

CALLBACK(on_accept, bool,
	private_elastic_control_t *this, stream_t *stream)
{
	answer_t a = {};
	chunk_t req, body = chunk_empty;
	char head[4], *nl;
	uint32_t len;

	if (!stream->read_all(stream, head, sizeof(head)))
	{
		return FALSE;
	}
	len = untoh32(head);
	if (len == 0 || len > MAX_REQUEST)
	{
		a.error = strdup("request too large or empty");
		send_answer(stream, &a);
		free(a.error);
		return FALSE;
	}
	req = chunk_alloc(len + 1);
	if (stream->read_all(stream, req.ptr, len))
	{
		req.ptr[len] = '\0';
		nl = memchr(req.ptr, '\n', len);
		if (nl)
		{
			*nl = '\0';
			body = chunk_create((u_char*)nl + 1, len - (nl + 1 - (char*)req.ptr));
		}
		dispatch(this, (char*)req.ptr, body, &a);
		send_answer(stream, &a);
	}
	chunk_clear(&req);
	if (a.payload)
	{
		memwipe(a.payload, a.len);
		free(a.payload);
	}
	free(a.error);
	return FALSE;
}

METHOD(elastic_control_t, destroy, void,
	private_elastic_control_t *this)
{
	DESTROY_IF(this->service);
	free(this->steer);
	free(this);
}

elastic_control_t *elastic_control_create(elastic_store_t *store, elastic_listener_t *listener,
										  char *uri, uint64_t margin, char *steer)
{
	private_elastic_control_t *this;

	INIT(this,
		.public = {
			.destroy = _destroy,
		},
		.store = store,
		.listener = listener,
		.margin = margin,
		.steer = strdupnull(steer),
	);
	if (strpfx(uri, "unix://"))
	{
		unlink(uri + strlen("unix://"));
	}
	/* created 0600 from the start (chmod below only confirms it) */
	mode_t old = umask(S_IRWXG | S_IRWXO);
	this->service = lib->streams->create_service(lib->streams, uri, 10);
	umask(old);
	if (!this->service)
	{
		DBG1(DBG_CFG, "elastic: creating the control socket %s failed", uri);
		free(this->steer);
		free(this);
		return NULL;
	}
	if (strpfx(uri, "unix://") && chmod(uri + strlen("unix://"), S_IRUSR | S_IWUSR) != 0)
	{
		DBG1(DBG_CFG, "elastic: cannot restrict %s to mode 0600", uri);
	}
	this->service->on_accept(this->service, on_accept, this, JOB_PRIO_CRITICAL, 1);
	DBG1(DBG_CFG, "elastic: control socket %s", uri);
	return &this->public;
}
