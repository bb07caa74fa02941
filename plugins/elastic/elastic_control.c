#include "elastic_control.h"
#include "elastic_envelope.h"
#include "elastic_core.h"
#include "elastic_import.h"
#include "elastic_stats.h"
#include "elastic_sync.h"
#include "elastic_takeover.h"

#include <daemon.h>
#include <errno.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/** Largest request: an envelope (1 MiB) plus the command line. */
#define MAX_REQUEST ((1 << 20) + 1024)

/** A client that stalls mid-request or stops reading is dropped after this long. */
#define IO_TIMEOUT_S 5

/** Clients served at once (commands still run one at a time, under the store's op lock). */
#define MAX_CLIENTS 4

/** Largest margin accepted on a request: beyond it a 32-bit sequence number space is gone. */
#define MAX_MARGIN UINT32_MAX

typedef struct private_elastic_control_t private_elastic_control_t;

struct private_elastic_control_t {
	elastic_control_t public;
	elastic_store_t *store;
	elastic_listener_t *listener;
	stream_service_t *service;
	elastic_sync_t *sync;
	elastic_stats_t *stats;	/**< requests answered and their durations (metrics) */
	uint64_t margin;
	char *steer;
	gid_t group;		/**< also allowed besides root and charon's user, or -1 */
};

/** An answer: status line plus optional payload (wiped after sending). */
typedef struct {
	char *error;
	unsigned char *payload;
	size_t len;
	/** a release's clean-up, done after the answer is sent, still under the op lock */
	elastic_released_t *released;
} answer_t;

/** Sets an allocated error from a format. */
static void fail(answer_t *a, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	if (vasprintf(&a->error, fmt, args) < 0)
	{
		a->error = NULL;
	}
	va_end(args);
}

static uint32_t select_vpn(private_elastic_control_t *this, const char *sel, answer_t *a)
{
	uint64_t uid = 0;
	char *err;

	if (sel && strpfx(sel, "id:"))
	{
		err = elastic_parse_u64(sel + 3, "ike-id", 1, UINT32_MAX, &uid);
		if (err)
		{
			a->error = err;
			return 0;
		}
	}
	else if (sel && strpfx(sel, "name:"))
	{
		uid = elastic_store_find(this->store, sel + 5);
	}
	else if (sel && strpfx(sel, "vpn:"))
	{	/* the VPN id survives IKE rekeys (new ike-id): what drain and rebalance use */
		uid = elastic_store_find_vpn(this->store, sel + 4);
	}
	if (!uid || elastic_store_role(this->store, uid) < 0)
	{
		fail(a, "no VPN matches '%s'", sel ?: "");
		return 0;
	}
	return uid;
}

/** The request's margin (1..2^32-1) or the configured one; FALSE with a->error if malformed. */
static bool margin_arg(private_elastic_control_t *this, const char *arg, uint64_t *margin,
					   answer_t *a)
{
	if (!arg)
	{
		*margin = this->margin;
		return TRUE;
	}
	a->error = elastic_parse_u64(arg, "margin", 1, MAX_MARGIN, margin);
	return !a->error;
}

/** activate's margin word: "-" stands for the configured one (NULL), so that "steered" can
 * follow without a margin. */
static char *activate_margin(char *arg)
{
	return arg && streq(arg, "-") ? NULL : arg;
}

/** activate's optional last word "steered": a transfer already moved the traffic here, the
 * steering hook need not run again. */
static bool steered_arg(const char *arg, bool *steered, answer_t *a)
{
	*steered = arg && streq(arg, "steered");
	if (arg && !*steered)
	{
		fail(a, "activate: unknown option '%s' (expected 'steered')", arg);
	}
	return !arg || *steered;
}

/** Only the owner exports or releases a VPN for a move: a replica moved would be a second
 * sender next to the owner. */
static bool owned(private_elastic_control_t *this, uint32_t uid, const char *cmd, answer_t *a)
{
	if (elastic_store_role(this->store, uid) == ELASTIC_ROLE_ACTIVE)
	{
		return TRUE;
	}
	fail(a, "%s: ike-id %u is not owned here (a passive or fenced copy)", cmd,
				 uid);
	return FALSE;
}

/** Refuses arguments beyond the `max` a command takes ("activate id:2 1024 steered junk"). */
static bool arity(char *extra, const char *cmd, answer_t *a)
{
	if (!extra)
	{
		return TRUE;
	}
	fail(a, "%s: unexpected argument '%.40s'", cmd, extra);
	return FALSE;
}

static void dispatch_locked(private_elastic_control_t *this, char *line, chunk_t body, answer_t *a);

/**
 * `remote NODE` with a request as body: runs it on member NODE through syncd (a transfer by node
 * name). Not under the op lock: it changes nothing here, and the member may call back.
 */
static void forward(private_elastic_control_t *this, char *node, chunk_t body, answer_t *a)
{
	chunk_t answer;
	char *err;

	if (!this->sync)
	{
		a->error = strdup("remote: this charon is not attached to elastic-syncd "
						  "(charon.plugins.elastic.syncd_socket)");
		return;
	}
	err = this->sync->call(this->sync, node, body, &answer);
	if (err)
	{
		a->error = err;
		return;
	}
	if (answer.len >= 3 && memeq(answer.ptr, "OK\n", 3))
	{
		a->len = answer.len - 3;
		a->payload = malloc(a->len + 1);
		memcpy(a->payload, answer.ptr + 3, a->len);
	}
	else if (answer.len > 4 && memeq(answer.ptr, "ERR ", 4))
	{
		fail(a, "on %s: %.*s", node, (int)(answer.len - 4 - (answer.ptr[answer.len - 1] == '\n')),
			 answer.ptr + 4);
	}
	else
	{
		fail(a, "no valid answer from member %s", node);
	}
	chunk_clear(&answer);
}

/** Runs a command while no replica from syncd can change the VPNs held here. */
static void dispatch(private_elastic_control_t *this, char *line, chunk_t body, answer_t *a)
{
	if (strpfx(line, "remote "))
	{
		char *node = line + strlen("remote ");

		if (!*node || strchr(node, ' '))
		{
			fail(a, "usage: remote NODE (with the request for NODE as the body)");
			return;
		}
		forward(this, node, body, a);
		return;
	}
	elastic_store_op_lock(this->store);
	dispatch_locked(this, line, body, a);
	if (!a->released)
	{	/* else held until answer_sent() */
		elastic_store_op_unlock(this->store);
	}
}

/**
 * After the answer went out: a release's clean-up (its IKE_SA destroyed), then the op lock that
 * dispatch() kept for it, so that no replica of the VPN is installed before the old SAs are gone.
 */
static void answer_sent(private_elastic_control_t *this, answer_t *a)
{
	if (a->released)
	{
		elastic_release_finish(a->released);
		a->released = NULL;
		elastic_store_op_unlock(this->store);
	}
}

static void dispatch_locked(private_elastic_control_t *this, char *line, chunk_t body, answer_t *a)
{
	char *save = NULL, *cmd = strtok_r(line, " ", &save), *arg1 = strtok_r(NULL, " ", &save),
		 *arg2 = strtok_r(NULL, " ", &save), *arg3 = strtok_r(NULL, " ", &save),
		 *arg4 = strtok_r(NULL, " ", &save), *arg5 = strtok_r(NULL, " ", &save);
	uint32_t uid;
	uint64_t margin;
	bool steered = FALSE;
	char *text;

	cmd = cmd ?: "";
	if (!arity(streq(cmd, "list") || streq(cmd, "fence") || streq(cmd, "unfence") ||
			   streq(cmd, "drop-fenced") ? arg1 :
			   streq(cmd, "export") || streq(cmd, "release") || streq(cmd, "steer") ? arg2 :
			   streq(cmd, "import") ? arg3 : streq(cmd, "activate") ? arg4 : arg5, cmd, a))
	{
		return;
	}
	if (streq(cmd, "list"))
	{
		text = elastic_store_list(this->store);
		a->payload = (unsigned char*)text;
		a->len = strlen(text);
	}
	else if (streq(cmd, "export") && (uid = select_vpn(this, arg1, a)) &&
			 owned(this, uid, cmd, a))
	{
		a->error = elastic_store_export(this->store, uid, &a->payload, &a->len);
	}
	else if (streq(cmd, "release") && (uid = select_vpn(this, arg1, a)) &&
			 owned(this, uid, cmd, a))
	{
		a->error = elastic_release(this->store, this->listener, uid, &a->payload, &a->len,
								   &a->released);
	}
	else if (streq(cmd, "import"))
	{
		if (!arg1 || (!streq(arg1, "passive") && !streq(arg1, "active")))
		{
			a->error = strdup("import needs a mode: passive or active");
			return;
		}
		if (!margin_arg(this, arg2, &margin, a))
		{
			return;
		}
		a->error = elastic_import(this->store, this->listener, body.ptr, body.len,
								  streq(arg1, "active"), margin, &uid);
		if (!a->error && streq(arg1, "active"))
		{	/* responsible here now: its traffic must come here */
			elastic_steer(this->steer, this->store, &uid, 1);
		}
		if (!a->error && asprintf(&text, "ike-id %u\n", uid) > 0)
		{
			a->payload = (unsigned char*)text;
			a->len = strlen(text);
		}
	}
	else if (streq(cmd, "activate") && (uid = select_vpn(this, arg1, a)) &&
			 margin_arg(this, arg2 = activate_margin(arg2), &margin, a) &&
			 steered_arg(arg3, &steered, a))
	{
		if (!arg2 && body.len && elastic_envelope_outbound_stopped(body.ptr, body.len))
		{	/* the previous owner stopped sending before it read these counters: no jump */
			margin = 0;
		}
		a->error = elastic_activate(this->store, this->listener, uid,
									body.len ? body.ptr : NULL, body.len, margin);
		if (!a->error && !steered)
		{
			elastic_steer(this->steer, this->store, &uid, 1);
		}
	}
	else if (streq(cmd, "steer") && (uid = select_vpn(this, arg1, a)))
	{	/* a transfer moves the traffic to the target before the source lets go */
		int ms = this->steer ? elastic_steer(this->steer, this->store, &uid, 1) : -1;

		if (ms < 0)
		{
			a->error = strdup(this->steer ? "the steering hook failed"
										  : "no steering hook configured (charon.plugins.elastic.steer)");
		}
		else if (asprintf(&text, "steer_ms %d\n", ms) > 0)
		{
			a->payload = (unsigned char*)text;
			a->len = strlen(text);
		}
	}
	else if (streq(cmd, "takeover"))
	{	/* from elastic-heartbeatd: takeover NODE VIEW_EPOCH REPLICAS LIVE */
		uint64_t epoch, replicas;

		if (!arg1 || !arg2 || !arg3 || !arg4)
		{
			a->error = strdup("usage: takeover NODE EPOCH REPLICAS LIVE(name=weight,...)");
			return;
		}
		if ((a->error = elastic_parse_u64(arg2, "epoch", 0, UINT64_MAX, &epoch)) ||
			(a->error = elastic_parse_u64(arg3, "replicas", 1, 16, &replicas)))
		{
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
	else if (streq(cmd, "fence") || streq(cmd, "unfence") || streq(cmd, "drop-fenced"))
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
	else if (!a->error)
	{
		fail(a, "unknown command '%.40s'", cmd);
	}
}

/** The answer as sent on the socket: "OK\n" and the payload, or "ERR " and the error. */
static chunk_t encode_answer(answer_t *a)
{
	if (a->error)
	{
		return chunk_cat("ccc", chunk_from_str("ERR "), chunk_from_str(a->error),
						 chunk_from_chars('\n'));
	}
	return chunk_cat("cc", chunk_from_str("OK\n"), chunk_create(a->payload, a->len));
}

static bool send_answer(stream_t *stream, answer_t *a)
{
	chunk_t out = encode_answer(a);
	char head[4];
	bool ok;

	htoun32(head, out.len);
	ok = stream->write_all(stream, head, 4) && stream->write_all(stream, out.ptr, out.len);
	chunk_clear(&out);
	return ok;
}

/** Splits a request "line\nbody" held in req (NUL-terminated by the caller) in place. */
static chunk_t split_request(chunk_t req, size_t len)
{
	char *nl = memchr(req.ptr, '\n', len);

	if (!nl)
	{
		return chunk_empty;
	}
	*nl = '\0';
	return chunk_create((u_char*)nl + 1, len - (nl + 1 - (char*)req.ptr));
}

static void answer_clear(answer_t *a)
{
	if (a->payload)
	{
		memwipe(a->payload, a->len);
		free(a->payload);
	}
	free(a->error);
}

/** What another member may run here: the steps of a transfer (never `remote`: no relaying). */
static bool remote_allowed(const char *line)
{
	static const char *cmds[] = { "list", "export", "release", "import", "activate", "steer" };
	size_t n = strcspn(line, " "), i;

	for (i = 0; i < countof(cmds); i++)
	{
		if (strlen(cmds[i]) == n && strneq(line, cmds[i], n))
		{
			return TRUE;
		}
	}
	return FALSE;
}

/** Runs the request (line, newline, body) of len bytes in req, which has room for a NUL after
 * them; from: the member that sent it (only a transfer's steps), NULL for a local client. */
/** dispatch(), recorded for the metrics by its first word. */
static void timed_dispatch(private_elastic_control_t *this, char *line, chunk_t body, answer_t *a)
{
	char cmd[16] = "";
	timeval_t start, end;

	snprintf(cmd, sizeof(cmd), "%.*s", (int)strcspn(line, " "), line);
	time_monotonic(&start);
	dispatch(this, line, body, a);
	time_monotonic(&end);
	elastic_stats_request(this->stats, cmd, a->error != NULL,
						  (end.tv_sec - start.tv_sec) + (end.tv_usec - start.tv_usec) / 1e6);
}

static void run_request(private_elastic_control_t *this, chunk_t req, size_t len,
						const char *from, answer_t *a)
{
	chunk_t body;

	req.ptr[len] = '\0';
	body = split_request(req, len);
	if (from && !remote_allowed((char*)req.ptr))
	{
		fail(a, "'%.40s' may not be run by another member", (char*)req.ptr);
		return;
	}
	if (from)
	{
		DBG2(DBG_CFG, "elastic: member %s runs '%.*s' here", from,
			 (int)strcspn((char*)req.ptr, " "), req.ptr);
	}
	if (streq((char*)req.ptr, "metrics"))
	{	/* without the ops lock: a scrape never waits for a takeover in progress */
		a->payload = (unsigned char*)elastic_stats_text(this->stats, this->store, VERSION);
		a->len = strlen((char*)a->payload);
		return;
	}
	timed_dispatch(this, (char*)req.ptr, body, a);
}

METHOD(elastic_control_t, execute_remote, void,
	private_elastic_control_t *this, chunk_t request, const char *from,
	elastic_control_respond_t respond, void *data)
{
	answer_t a = {};
	chunk_t req = chunk_alloc(request.len + 1), out;

	memcpy(req.ptr, request.ptr, request.len);
	run_request(this, req, request.len, from, &a);
	out = encode_answer(&a);
	respond(data, out);
	answer_sent(this, &a);
	chunk_clear(&out);
	chunk_clear(&req);
	answer_clear(&a);
}

METHOD(elastic_control_t, set_sync, void,
	private_elastic_control_t *this, elastic_sync_t *sync)
{
	this->sync = sync;
}

/**
 * Bounds the client's I/O and checks who it is: root, charon's own user or the configured
 * control_group. The stream's socket is reached through a dup() of its descriptor (socket
 * options and credentials belong to the socket, not the descriptor).
 */
static bool admit(private_elastic_control_t *this, stream_t *stream, answer_t *a)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	struct ucred cred = {};
	socklen_t len = sizeof(cred);
	FILE *file = stream->get_file(stream);
	bool ok;

	if (!file)
	{
		return FALSE;
	}
	setsockopt(fileno(file), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fileno(file), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ok = getsockopt(fileno(file), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
		 (cred.uid == 0 || cred.uid == geteuid() ||
		  (this->group != (gid_t)-1 && cred.gid == this->group));
	fclose(file);
	if (!ok)
	{
		DBG1(DBG_CFG, "elastic: control socket client uid %u gid %u (pid %d) refused",
			 cred.uid, cred.gid, cred.pid);
		fail(a, "permission denied for uid %u (root, charon's user or the "
					 "control_group only)", cred.uid);
	}
	return ok;
}

CALLBACK(on_accept, bool,
	private_elastic_control_t *this, stream_t *stream)
{
	answer_t a = {};
	chunk_t req;
	char head[4];
	uint32_t len;

	if (!admit(this, stream, &a))
	{
		send_answer(stream, &a);
		free(a.error);
		return FALSE;
	}
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
		run_request(this, req, len, NULL, &a);
		send_answer(stream, &a);
		answer_sent(this, &a);
	}
	chunk_clear(&req);
	answer_clear(&a);
	return FALSE;
}

METHOD(elastic_control_t, destroy, void,
	private_elastic_control_t *this)
{
	DESTROY_IF(this->service);
	elastic_stats_destroy(this->stats);
	free(this->steer);
	free(this);
}

/**
 * Makes room for the socket: a stale socket is removed, anything else there is refused (and
 * left intact).
 */
static bool clear_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
	{
		return errno == ENOENT;
	}
	if (!S_ISSOCK(st.st_mode))
	{
		DBG1(DBG_CFG, "elastic: %s exists and is not a socket, refusing to replace it", path);
		return FALSE;
	}
	return unlink(path) == 0;
}

/** 0600, or 0660 with group control_group; FALSE if that group does not exist. */
static bool restrict_path(private_elastic_control_t *this, const char *path, const char *group)
{
	struct group *g = group ? getgrnam(group) : NULL;

	if (group && !g)
	{
		DBG1(DBG_CFG, "elastic: control_group '%s' does not exist", group);
		return FALSE;
	}
	if (g)
	{
		this->group = g->gr_gid;
		return chown(path, -1, g->gr_gid) == 0 && chmod(path, S_IRUSR | S_IWUSR | S_IRGRP |
														S_IWGRP) == 0;
	}
	return chmod(path, S_IRUSR | S_IWUSR) == 0;
}

elastic_control_t *elastic_control_create(elastic_store_t *store, elastic_listener_t *listener,
										  elastic_config_t *config)
{
	private_elastic_control_t *this;
	const char *path = config->socket + strlen("unix://");
	mode_t old;

	INIT(this,
		.public = {
			.execute_remote = _execute_remote,
			.set_sync = _set_sync,
			.destroy = _destroy,
		},
		.store = store,
		.listener = listener,
		.margin = config->margin,
		.steer = strdupnull(config->steer),
		.group = (gid_t)-1,
		.stats = elastic_stats_create(),
	);
	if (!clear_path(path))
	{
		DBG1(DBG_CFG, "elastic: cannot create the control socket %s", config->socket);
		destroy(this);
		return NULL;
	}
	/* created 0600 from the start: no window in which others could connect */
	old = umask(S_IRWXG | S_IRWXO);
	this->service = lib->streams->create_service(lib->streams, config->socket, 10);
	umask(old);
	if (!this->service || !restrict_path(this, path, config->control_group))
	{
		DBG1(DBG_CFG, "elastic: creating the control socket %s failed", config->socket);
		destroy(this);
		return NULL;
	}
	this->service->on_accept(this->service, on_accept, this, JOB_PRIO_CRITICAL, MAX_CLIENTS);
	DBG1(DBG_CFG, "elastic: control socket %s", config->socket);
	return &this->public;
}
