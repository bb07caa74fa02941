#include "elastic_sync.h"
#include "elastic_envelope.h"
#include "elastic_import.h"
#include "elastic_synclink.h"
#include "elastic_counterwatch.h"
#include "elastic_takeover.h"

#include "elastic_control.h"

#include <daemon.h>
#include <processing/jobs/callback_job.h>
#include <threading/thread.h>

/** How long a member's charon may take to answer a control request (an import under load). */
#define CALL_TIMEOUT_MS 12000

/** elastic.v1.EnvelopeKind */
#define KIND_UPSERT 1
#define KIND_COUNTERS 2
#define KIND_DELETE 3
#define KIND_FORGET 4

typedef struct private_elastic_sync_t private_elastic_sync_t;

struct private_elastic_sync_t {
	elastic_sync_t public;
	elastic_store_t *store;
	elastic_listener_t *listener;
	elastic_control_t *control;
	elastic_synclink_t *link;
	thread_t *thread;
	elastic_counterwatch_t *watch;
	thread_t *watch_thread;
};

static void on_replica(private_elastic_sync_t *this, const void *env, size_t len)
{
	char *err, *vpn_id = NULL, *origin = NULL;
	int kind = 0, role, refreshed;
	uint64_t epoch = 0;
	uint32_t uid;

	err = elastic_envelope_peek(env, len, &kind, &vpn_id, &origin, &epoch);
	if (err)
	{
		DBG1(DBG_CFG, "elastic: refusing a replica from syncd: %s", err);
		free(err);
		return;
	}
	uid = elastic_store_find_vpn(this->store, vpn_id);
	role = uid ? elastic_store_role(this->store, uid) : -1;
	if (role == ELASTIC_ROLE_ACTIVE || role == ELASTIC_ROLE_FENCED)
	{
		if (epoch <= elastic_store_epoch(this->store, uid))
		{	/* owned here: a replica of it can only be older */
			goto out;
		}
		/* another gateway took this VPN over (we were cut off, not dead): two gateways must
		 * never send on one SA, so stop here at once; the replica is then held passive */
		DBG1(DBG_CFG, "elastic: VPN %s was taken over by %s (epoch %llu): dropping it here",
			 vpn_id, origin, (unsigned long long)epoch);
		elastic_drop_local(this->store, uid);
		uid = 0;
	}
	if (uid && (kind == KIND_DELETE || kind == KIND_FORGET))
	{
		elastic_drop_local(this->store, uid);
		DBG2(DBG_CFG, "elastic: VPN %s %s, passive copy dropped", vpn_id,
			 kind == KIND_DELETE ? "deleted on its owner" : "no longer replicated here (moved)");
	}
	else if (kind != KIND_DELETE && kind != KIND_FORGET)
	{
		refreshed = uid ? elastic_store_refresh_passive(this->store, uid, env, len) : -1;
		if (refreshed < 0 && kind == KIND_UPSERT)
		{	/* new here, or its SAs changed (rekeyed on the owner): (re)install it */
			if (uid)
			{
				elastic_drop_local(this->store, uid);
			}
			err = elastic_import(this->store, this->listener, env, len, FALSE, 0, &uid);
			if (err)
			{
				DBG1(DBG_CFG, "elastic: installing replica %s failed: %s", vpn_id, err);
				free(err);
			}
		}
	}
out:
	free(vpn_id);
	free(origin);
}

CALLBACK(replica_cb, void,
	private_elastic_sync_t *this, const void *env, size_t len)
{
	elastic_store_op_lock(this->store);
	on_replica(this, env, len);
	elastic_store_op_unlock(this->store);
}

/** A control request from another member, run on charon's thread pool (not the link's thread,
 * which must keep delivering replicas and answers meanwhile). */
typedef struct {
	private_elastic_sync_t *sync;
	uint64_t id;
	char *from;
	chunk_t request;
} remote_request_t;

static void remote_request_destroy(remote_request_t *r)
{
	chunk_clear(&r->request);
	free(r->from);
	free(r);
}

/** Sends the answer to a remote request back through syncd (elastic_control_respond_t). */
static void respond(void *data, chunk_t answer)
{
	remote_request_t *r = data;

	elastic_synclink_respond(r->sync->link, r->id, r->from, answer.ptr, answer.len);
}

static job_requeue_t run_remote_request(remote_request_t *r)
{
	if (r->sync->control)
	{
		r->sync->control->execute_remote(r->sync->control, r->request, r->from,
										 respond, r);
	}
	else
	{
		respond(r, chunk_from_str("ERR this charon's control socket is not running\n"));
	}
	return JOB_REQUEUE_NONE;
}

CALLBACK(request_cb, void,
	private_elastic_sync_t *this, uint64_t id, const char *from, const void *req, size_t len)
{
	remote_request_t *r;

	INIT(r,
		.sync = this,
		.id = id,
		.from = strdup(from),
		.request = chunk_clone(chunk_create((u_char*)req, len)),
	);
	lib->processor->queue_job(lib->processor, (job_t*)callback_job_create(
		(callback_job_cb_t)run_remote_request, r, (callback_job_cleanup_t)remote_request_destroy,
		NULL));
}

METHOD(elastic_sync_t, call, char*,
	private_elastic_sync_t *this, const char *node, chunk_t request, chunk_t *answer)
{
	void *ptr = NULL;
	size_t len = 0;
	char *err;

	err = elastic_synclink_call(this->link, node, request.ptr, request.len, CALL_TIMEOUT_MS,
								&ptr, &len);
	*answer = err ? chunk_empty : chunk_create(ptr, len);
	return err;
}

static void *run(private_elastic_sync_t *this)
{
	elastic_synclink_run(this->link);
	return NULL;
}

static void *run_watch(private_elastic_sync_t *this)
{
	elastic_counterwatch_run(this->watch);
	return NULL;
}

CALLBACK(counters_moved, void,
	private_elastic_sync_t *this, uint32_t ike_uid)
{
	elastic_synclink_mark_counters(this->link, ike_uid);
}

/** Starts the kernel counter watcher (charon.plugins.elastic.counters.*). */
static void start_watch(private_elastic_sync_t *this, elastic_config_t *config)
{
	uint32_t packets = config->threshold, interval = config->interval_ms;
	char *err = NULL;

	this->watch = elastic_counterwatch_create(this->store, packets, interval,
											  (elastic_counter_cb_t)counters_moved, this, &err);
	if (!this->watch)
	{
		DBG1(DBG_CFG, "elastic: no kernel counter reports (%s): takeovers rely on the margin "
			 "alone", err);
		free(err);
		return;
	}
	this->watch_thread = thread_create((thread_main_t)run_watch, this);
	DBG1(DBG_CFG, "elastic: ESP counters replicated every %u packets / %u ms", packets, interval);
}

METHOD(elastic_sync_t, destroy, void,
	private_elastic_sync_t *this)
{
	if (this->watch_thread)
	{
		elastic_counterwatch_stop(this->watch);
		this->watch_thread->join(this->watch_thread);
	}
	if (this->watch)
	{
		elastic_counterwatch_destroy(this->watch);
	}
	elastic_synclink_stop(this->link);
	this->thread->join(this->thread);
	elastic_synclink_destroy(this->link);
	free(this);
}

elastic_sync_t *elastic_sync_create(elastic_store_t *store, elastic_listener_t *listener,
									elastic_config_t *config, elastic_control_t *control)
{
	private_elastic_sync_t *this;
	char *path = config->syncd_socket;

	if (!path)
	{
		return NULL;
	}
	INIT(this,
		.public = {
			.call = _call,
			.destroy = _destroy,
		},
		.store = store,
		.listener = listener,
		.control = control,
	);
	this->link = elastic_synclink_create(path, config->node, store,
										 (elastic_replica_cb_t)replica_cb,
										 (elastic_request_cb_t)request_cb, this);
	if (!this->link)
	{
		free(this);
		return NULL;
	}
	this->thread = thread_create((thread_main_t)run, this);
	if (!this->thread)
	{
		DBG1(DBG_CFG, "elastic: cannot start the syncd link thread");
		elastic_synclink_destroy(this->link);
		free(this);
		return NULL;
	}
	start_watch(this, config);
	DBG1(DBG_CFG, "elastic: replicating through elastic-syncd at %s", path);
	return &this->public;
}
