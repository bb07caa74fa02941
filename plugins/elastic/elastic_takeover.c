#include "elastic_takeover.h"
#include "elastic_store_ha.h"
#include "elastic_import.h"

#include <daemon.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/** Writes all of buf to fd; FALSE on error. */
static bool write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len)
	{
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
		{
			continue;
		}
		if (n <= 0)
		{
			return FALSE;
		}
		buf += n;
		len -= n;
	}
	return TRUE;
}

/** Writes the steering lines of the VPNs to fd, then an empty line. */
static bool write_lines(int fd, elastic_store_t *store, uint32_t *ids, size_t count)
{
	bool ok = TRUE;
	char *line;
	size_t i;

	for (i = 0; ok && i < count; i++)
	{
		line = elastic_store_steer_line(store, ids[i]);
		if (line)
		{
			ok = write_all(fd, line, strlen(line)) && write_all(fd, "\n", 1);
			free(line);
		}
	}
	return ok && write_all(fd, "\n", 1);
}

/** A steering run in progress: started before the activations, finished after them. */
typedef struct {
	const char *hook;
	uint64_t start;
	int fd;
	pid_t pid;
	bool ok;
} steer_job_t;

/** Connects to a long-running steering helper (unix://PATH) and sends it the lines. */
static bool steer_connect(steer_job_t *job, elastic_store_t *store, uint32_t *ids, size_t count)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	const char *path = job->hook + strlen("unix://");

	if (strlen(path) >= sizeof(addr.sun_path))
	{
		return FALSE;
	}
	strcpy(addr.sun_path, path);
	job->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (job->fd < 0)
	{
		return FALSE;
	}
	setsockopt(job->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return connect(job->fd, (struct sockaddr*)&addr, sizeof(addr)) == 0 &&
		   write_lines(job->fd, store, ids, count);
}

/** Starts the hook executable with the lines on its standard input. */
static bool steer_spawn(steer_job_t *job, elastic_store_t *store, uint32_t *ids, size_t count)
{
	char *argv[] = { (char*)job->hook, NULL };
	posix_spawn_file_actions_t actions;
	int fds[2], err;
	bool ok;

	if (pipe2(fds, O_CLOEXEC) != 0)
	{
		return FALSE;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
	err = posix_spawn(&job->pid, job->hook, &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(fds[0]);
	if (err)
	{
		close(fds[1]);
		DBG1(DBG_CFG, "elastic: cannot run the steering hook %s: %s", job->hook, strerror(err));
		return FALSE;
	}
	ok = write_lines(fds[1], store, ids, count);
	close(fds[1]);
	return ok;
}

/** Starts steering the VPNs (nothing to do without a hook or VPNs). */
static void steer_begin(steer_job_t *job, const char *hook, elastic_store_t *store,
						uint32_t *ids, size_t count)
{
	*job = (steer_job_t){ .hook = count ? hook : NULL, .start = now_ms(), .fd = -1, .pid = -1 };
	if (job->hook)
	{
		job->ok = strpfx(hook, "unix://") ? steer_connect(job, store, ids, count)
										  : steer_spawn(job, store, ids, count);
	}
}

/** Waits for the steering to complete; the milliseconds since it began, or -1 (logged). */
static int steer_end(steer_job_t *job)
{
	char answer[3] = "";
	int status = -1;

	if (!job->hook)
	{
		return 0;
	}
	if (job->fd >= 0)
	{
		job->ok = job->ok && recv(job->fd, answer, 2, MSG_WAITALL) == 2 && memeq(answer, "ok", 2);
		close(job->fd);
	}
	if (job->pid > 0)
	{
		while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR)
		{
		}
		job->ok = job->ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	if (!job->ok)
	{
		DBG1(DBG_CFG, "elastic: the steering hook %s failed", job->hook);
		return -1;
	}
	return (int)(now_ms() - job->start);
}

int elastic_steer(const char *hook, elastic_store_t *store, uint32_t *ids, size_t count)
{
	steer_job_t job;

	steer_begin(&job, hook, store, ids, count);
	return steer_end(&job);
}

char *elastic_takeover(elastic_store_t *store, elastic_listener_t *listener, const char *dead,
					   const char *live, uint64_t margin, const char *steer, char **report)
{
	uint32_t *ids;
	uint64_t start = now_ms(), activated_ms;
	char *err = NULL;
	int n, i, ok = 0, steer_ms;
	steer_job_t job;

	n = elastic_store_takeover_set(store, dead, live, &ids, &err);
	if (n < 0)
	{
		return err;
	}
	/* the owner is gone: move the traffic while the VPNs are being activated (what arrives
	 * before a VPN's policies are in is dropped, as it would be without this overlap) */
	steer_begin(&job, steer, store, ids, n);
	for (i = 0; i < n; i++)
	{
		err = elastic_activate(store, listener, ids[i], NULL, 0, margin);
		if (err)
		{
			DBG1(DBG_CFG, "elastic: takeover of IKE_SA %u failed: %s", ids[i], err);
			free(err);
			continue;
		}
		ok++;
	}
	activated_ms = now_ms() - start;
	steer_ms = steer_end(&job);
	DBG1(DBG_CFG, "elastic: took over %d of %d VPNs of %s in %llu ms (steering %d ms)", ok, n,
		 dead, (unsigned long long)activated_ms, steer_ms);
	if (asprintf(report, "activated %d failed %d activate_ms %llu steer_ms %d\n", ok, n - ok,
				 (unsigned long long)activated_ms, steer_ms) < 0)
	{
		*report = NULL;
	}
	free(ids);
	return NULL;
}

/** Fences (or unfences) one VPN: outbound DROP above its IPsec policies, IKE_SA silent. */
static bool fence_one(elastic_store_t *store, uint32_t uid, bool fence)
{
	ike_sa_t *ike_sa;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, uid);
	if (!ike_sa)
	{
		return FALSE;
	}
	elastic_import_fence_all(ike_sa, fence);
	ike_sa->set_state(ike_sa, fence ? IKE_PASSIVE : IKE_ESTABLISHED);
	elastic_store_set_role(store, uid, fence ? ELASTIC_ROLE_FENCED : ELASTIC_ROLE_ACTIVE);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return TRUE;
}

/** Forgets a fenced VPN without a DELETE: it was taken over elsewhere. */
static bool drop_one(uint32_t uid)
{
	ike_sa_t *ike_sa;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, uid);
	if (!ike_sa)
	{
		return FALSE;
	}
	/* the listener removes the fence policies; a fenced VPN publishes no delete */
	charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager, ike_sa);
	return TRUE;
}

char *elastic_fence(elastic_store_t *store, elastic_fence_op_t op, char **report)
{
	static const char *names[] = { "fenced", "unfenced", "dropped" };
	uint32_t *ids;
	uint64_t start = now_ms();
	size_t n, i, done = 0;

	n = elastic_store_with_role(store, op == ELASTIC_FENCE ? ELASTIC_ROLE_ACTIVE
														   : ELASTIC_ROLE_FENCED, &ids);
	for (i = 0; i < n; i++)
	{
		done += op == ELASTIC_DROP_FENCED ? drop_one(ids[i])
										  : fence_one(store, ids[i], op == ELASTIC_FENCE);
	}
	free(ids);
	DBG1(DBG_CFG, "elastic: %s %zu VPNs in %llu ms", names[op], done,
		 (unsigned long long)(now_ms() - start));
	if (asprintf(report, "%s %zu\n", names[op], done) < 0)
	{
		*report = NULL;
	}
	return NULL;
}
