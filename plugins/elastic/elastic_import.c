#include "elastic_import.h"
#include "elastic_envelope.h"
#include "elastic_kex.h"

#include <collections/linked_list.h>
#include <daemon.h>
#include <endian.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sa/ikev2/keymat_v2.h>

static char *error(const char *fmt, ...)
{
	char *msg;
	va_list args;

	va_start(args, fmt);
	if (vasprintf(&msg, fmt, args) < 0)
	{
		msg = strdup("out of memory");
	}
	va_end(args);
	return msg;
}

static chunk_t chunk(elastic_buf_t buf)
{
	return chunk_create((u_char*)buf.ptr, buf.len);
}

/** A NUL-terminated copy of a name (owned by the caller) */
static char *name_of(elastic_buf_t buf)
{
	return strndup((char*)buf.ptr ?: "", buf.len);
}

static host_t *get_host(elastic_endpoint_t e)
{
	return host_create_from_chunk(AF_UNSPEC, chunk(e.address), e.port);
}

static identification_t *get_id(elastic_identity_t id)
{
	return identification_create_from_encoding((id_type_t)id.type, chunk(id.data));
}

static proposal_t *get_proposal(const elastic_algs_t *algs, protocol_id_t proto)
{
	proposal_t *proposal = proposal_create(proto, 0);

	if (algs->encryption)
	{
		proposal->add_algorithm(proposal, ENCRYPTION_ALGORITHM, algs->encryption,
								algs->encryption_key_bits);
	}
	if (algs->integrity)
	{
		proposal->add_algorithm(proposal, INTEGRITY_ALGORITHM, algs->integrity, 0);
	}
	if (proto == PROTO_IKE)
	{
		proposal->add_algorithm(proposal, PSEUDO_RANDOM_FUNCTION, algs->prf, 0);
	}
	if (algs->dh_group)
	{
		proposal->add_algorithm(proposal, KEY_EXCHANGE_METHOD, algs->dh_group, 0);
	}
	if (proto != PROTO_IKE)
	{
		proposal->add_algorithm(proposal, EXTENDED_SEQUENCE_NUMBERS,
								algs->esn ? EXT_SEQ_NUMBERS : NO_EXT_SEQ_NUMBERS, 0);
	}
	return proposal;
}

static bool derive_ike_keys(const elastic_ike_t *ike, ike_sa_t *ike_sa, proposal_t *proposal)
{
	keymat_v2_t *keymat = (keymat_v2_t*)ike_sa->get_keymat(ike_sa);
	key_exchange_t *kex;
	bool ok;

	kex = elastic_kex_create(chunk(ike->keys.shared_secret), ike->algs.dh_group);
	ok = keymat->derive_ike_keys(keymat, proposal, kex, chunk(ike->keys.nonce_i),
				chunk(ike->keys.nonce_r), ike_sa->get_id(ike_sa),
				ike->keys.old_prf ? (pseudo_random_function_t)ike->keys.old_prf : PRF_UNDEFINED,
				chunk(ike->keys.old_sk_d));
	kex->destroy(kex);
	return ok;
}

static void apply_ike_state(elastic_ctx_t *ctx, const elastic_ike_t *ike, ike_sa_t *ike_sa)
{
	elastic_buf_t addr;
	uint32_t bit;
	int i;

	ike_sa->set_my_host(ike_sa, get_host(ike->local));
	ike_sa->set_other_host(ike_sa, get_host(ike->remote));
	ike_sa->set_my_id(ike_sa, get_id(ike->local_id));
	ike_sa->set_other_id(ike_sa, get_id(ike->remote_id));
	for (bit = 1; bit && bit <= COND_AUTHENTICATED; bit <<= 1)
	{
		ike_sa->set_condition(ike_sa, bit, (ike->conditions & bit) != 0);
	}
	for (bit = 1; bit && bit <= EXT_IKE_CHILDLESS; bit <<= 1)
	{
		if (ike->extensions & bit)
		{
			ike_sa->enable_extension(ike_sa, bit);
		}
	}
	for (i = 0; elastic_ctx_get_vip(ctx, FALSE, i, &addr); i++)
	{
		host_t *vip = host_create_from_chunk(AF_UNSPEC, chunk(addr), 0);
		if (vip)
		{
			ike_sa->add_virtual_ip(ike_sa, FALSE, vip);
			vip->destroy(vip);
		}
	}
	ike_sa->set_message_id(ike_sa, TRUE, ike->msgid_initiate);
	ike_sa->set_message_id(ike_sa, FALSE, ike->msgid_respond);
}

static child_cfg_t *find_child_cfg(peer_cfg_t *peer_cfg, const char *name)
{
	enumerator_t *enumerator;
	child_cfg_t *cfg, *found = NULL;

	enumerator = peer_cfg->create_child_cfg_enumerator(peer_cfg);
	while (enumerator->enumerate(enumerator, &cfg))
	{
		if (streq(cfg->get_name(cfg), name))
		{
			found = cfg->get_ref(cfg);
			break;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

static linked_list_t *get_ts(elastic_ctx_t *ctx, int child, bool local)
{
	linked_list_t *out = linked_list_create();
	traffic_selector_t *ts;
	elastic_ts_t t;
	int i;

	for (i = 0; elastic_ctx_get_ts(ctx, child, local, i, &t); i++)
	{
		ts = traffic_selector_create_from_bytes(t.protocol,
				t.from.len == 16 ? TS_IPV6_ADDR_RANGE : TS_IPV4_ADDR_RANGE,
				chunk(t.from), t.from_port, chunk(t.to), t.to_port);
		if (ts)
		{
			out->insert_last(out, ts);
		}
	}
	return out;
}

/** Adds or removes one outbound DROP policy (at `prio`) for a traffic selector pair. */
static void drop_policy(traffic_selector_t *src_ts, traffic_selector_t *dst_ts, host_t *src,
						host_t *dst, mark_t mark, uint32_t if_id, ipsec_mode_t mode,
						policy_priority_t prio, bool add)
{
	ipsec_sa_cfg_t sa = { .mode = mode };
	kernel_ipsec_policy_id_t id = {
		.dir = POLICY_OUT,
		.src_ts = src_ts,
		.dst_ts = dst_ts,
		.mark = mark,
		.if_id = if_id,
	};
	kernel_ipsec_manage_policy_t policy = {
		.type = POLICY_DROP,
		.prio = prio,
		.src = src,
		.dst = dst,
		.sa = &sa,
	};

	if (add)
	{
		charon->kernel->add_policy(charon->kernel, &id, &policy);
	}
	else
	{
		charon->kernel->del_policy(charon->kernel, &id, &policy);
	}
}

/** Adds or removes outbound DROP policies for the CHILD_SA's traffic selectors. */
static void manage_drop(ike_sa_t *ike_sa, child_sa_t *child_sa, bool add, policy_priority_t prio)
{
	enumerator_t *enumerator;
	traffic_selector_t *my_ts, *other_ts;

	enumerator = child_sa->create_policy_enumerator(child_sa);
	while (enumerator->enumerate(enumerator, &my_ts, &other_ts))
	{
		drop_policy(my_ts, other_ts, ike_sa->get_my_host(ike_sa), ike_sa->get_other_host(ike_sa),
					child_sa->get_mark(child_sa, FALSE), child_sa->get_if_id(child_sa, FALSE),
					child_sa->get_mode(child_sa), prio, add);
	}
	enumerator->destroy(enumerator);
}

/**
 * Adds or removes IN and FWD IPsec policies for the CHILD_SA's inbound SA at the lowest priority:
 * a passive copy decrypts and forwards the EU's traffic as soon as it is steered here, before
 * activation (nothing arriving early is dropped), while an active VPN with the same selectors
 * here keeps precedence with its own, higher-priority policies.
 */
static void manage_inbound(ike_sa_t *ike_sa, child_sa_t *child_sa, bool add)
{
	enumerator_t *enumerator;
	traffic_selector_t *my_ts, *other_ts;
	ipsec_sa_cfg_t sa = {
		.mode = child_sa->get_mode(child_sa),
		.reqid = child_sa->get_reqid(child_sa),
		.ipcomp = {
			.transform = child_sa->get_ipcomp(child_sa),
			.cpi = child_sa->get_cpi(child_sa, TRUE),
		},
	};

	if (child_sa->get_protocol(child_sa) == PROTO_AH)
	{
		sa.ah.use = TRUE;
		sa.ah.spi = child_sa->get_spi(child_sa, TRUE);
	}
	else
	{
		sa.esp.use = TRUE;
		sa.esp.spi = child_sa->get_spi(child_sa, TRUE);
	}
	enumerator = child_sa->create_policy_enumerator(child_sa);
	while (enumerator->enumerate(enumerator, &my_ts, &other_ts))
	{
		kernel_ipsec_policy_id_t id = {
			.dir = POLICY_IN,
			.src_ts = other_ts,
			.dst_ts = my_ts,
			.mark = child_sa->get_mark(child_sa, TRUE),
			.if_id = child_sa->get_if_id(child_sa, TRUE),
		};
		kernel_ipsec_manage_policy_t policy = {
			.type = POLICY_IPSEC,
			.prio = POLICY_PRIORITY_FALLBACK,
			.src = ike_sa->get_other_host(ike_sa),
			.dst = ike_sa->get_my_host(ike_sa),
			.sa = &sa,
		};
		policy_dir_t dirs[] = { POLICY_IN, POLICY_FWD };
		int i;

		for (i = 0; i < (sa.mode == MODE_TRANSPORT ? 1 : 2); i++)
		{
			id.dir = dirs[i];
			if (add)
			{
				charon->kernel->add_policy(charon->kernel, &id, &policy);
			}
			else
			{
				charon->kernel->del_policy(charon->kernel, &id, &policy);
			}
		}
	}
	enumerator->destroy(enumerator);
}

void elastic_import_passive_policies(ike_sa_t *ike_sa, child_sa_t *child_sa, bool add)
{	/* outbound: a DROP below the IPsec policies, there are none while passive: a passive
	 * gateway must neither encrypt with the VPN's SAs nor forward its traffic in cleartext
	 * (routing may already send it here); inbound: accepted, see manage_inbound() */
	manage_drop(ike_sa, child_sa, add, POLICY_PRIORITY_FALLBACK);
	manage_inbound(ike_sa, child_sa, add);
}

void elastic_import_fence_outbound(ike_sa_t *ike_sa, child_sa_t *child_sa, bool add)
{	/* above the IPsec policies (the priority of bypass policies): nothing is encrypted */
	manage_drop(ike_sa, child_sa, add, POLICY_PRIORITY_PASS);
}

/** Installs the kernel SAs of CHILD_SA i (no policies) with the context's counters. */
static char *install_child(elastic_ctx_t *ctx, ike_sa_t *ike_sa, peer_cfg_t *peer_cfg, int i)
{
	char *name, *err = NULL;
	child_cfg_t *cfg;
	child_sa_t *child_sa;
	proposal_t *proposal;
	linked_list_t *my_ts, *other_ts;
	elastic_child_t c;
	chunk_t ei, ii, er, ir;

	if (!elastic_ctx_get_child(ctx, i, &c))
	{
		return error("the context has no CHILD_SA %d", i);
	}
	name = name_of(c.child_cfg);
	cfg = find_child_cfg(peer_cfg, name);
	if (!cfg)
	{
		err = error("unknown CHILD_SA config '%s' in connection '%s' here", name,
					peer_cfg->get_name(peer_cfg));
		free(name);
		return err;
	}
	free(name);
	child_sa_create_t data = {
		.mark_in = c.mark_in.value,
		.mark_out = c.mark_out.value,
		.if_id_in = c.if_id_in,
		.if_id_out = c.if_id_out,
		.encap = c.udp_encap,
	};
	child_sa = child_sa_create(ike_sa->get_my_host(ike_sa), ike_sa->get_other_host(ike_sa),
							   cfg, &data);
	cfg->destroy(cfg);
	child_sa->set_mode(child_sa, c.mode == ELASTIC_MODE_TRANSPORT ? MODE_TRANSPORT : MODE_TUNNEL);
	child_sa->set_protocol(child_sa, c.protocol == IPPROTO_AH ? PROTO_AH : PROTO_ESP);
	proposal = get_proposal(&c.algs, child_sa->get_protocol(child_sa));
	child_sa->set_proposal(child_sa, proposal);
	proposal->destroy(proposal);
	child_sa->set_state(child_sa, CHILD_INSTALLING);
	my_ts = get_ts(ctx, i, TRUE);
	other_ts = get_ts(ctx, i, FALSE);
	child_sa->set_policies(child_sa, my_ts, other_ts);
	my_ts->destroy_offset(my_ts, offsetof(traffic_selector_t, destroy));
	other_ts->destroy_offset(other_ts, offsetof(traffic_selector_t, destroy));

	ei = chunk(c.keys.encryption_i);
	ii = chunk(c.keys.integrity_i);
	er = chunk(c.keys.encryption_r);
	ir = chunk(c.keys.integrity_r);
	/* what the initiator sends is protected with the "i" keys */
	if (child_sa->install(child_sa, c.initiator ? er : ei, c.initiator ? ir : ii, htonl(c.spi_in),
			htons(c.cpi_in), c.initiator, TRUE, TRUE) != SUCCESS ||
		child_sa->install(child_sa, c.initiator ? ei : er, c.initiator ? ii : ir, htonl(c.spi_out),
			htons(c.cpi_out), c.initiator, FALSE, TRUE) != SUCCESS)
	{
		child_sa->destroy(child_sa);
		return error("installing the kernel SAs of CHILD_SA %08x_i failed", c.spi_in);
	}
	/* no policies yet: nothing is sent or accepted on these SAs until activation */
	err = elastic_set_counters(ctx, i, 0);
	if (err)
	{
		child_sa->destroy(child_sa);
		return err;
	}
	child_sa->set_state(child_sa, CHILD_INSTALLED);
	elastic_import_passive_policies(ike_sa, child_sa, TRUE);
	ike_sa->add_child_sa(ike_sa, child_sa);
	return NULL;
}

/** Creates the passive IKE_SA with its CHILD_SAs; it is checked in on success. */
static char *build(elastic_ctx_t *ctx, peer_cfg_t *peer_cfg, uint32_t *uid)
{
	ike_sa_id_t *id;
	ike_sa_t *ike_sa, *existing;
	proposal_t *proposal;
	char *err = NULL;
	elastic_ike_t ike;
	int i;

	elastic_ctx_get_ike(ctx, &ike);
	id = ike_sa_id_create(IKEV2, htobe64(ike.spi_i), htobe64(ike.spi_r), ike.initiator);
	existing = charon->ike_sa_manager->checkout(charon->ike_sa_manager, id);
	if (existing)
	{
		err = error("this IKE_SA already exists here as %s[%u]", existing->get_name(existing),
					existing->get_unique_id(existing));
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, existing);
		id->destroy(id);
		return err;
	}
	ike_sa = ike_sa_create(id, ike.initiator, IKEV2);
	id->destroy(id);
	charon->bus->set_sa(charon->bus, ike_sa);
	proposal = get_proposal(&ike.algs, PROTO_IKE);
	if (!derive_ike_keys(&ike, ike_sa, proposal))
	{
		err = strdup("deriving the IKE_SA keys failed (unsupported algorithm?)");
	}
	else
	{
		ike_sa->set_proposal(ike_sa, proposal);
		ike_sa->set_peer_cfg(ike_sa, peer_cfg);
		apply_ike_state(ctx, &ike, ike_sa);
		for (i = 0; !err && i < elastic_ctx_child_count(ctx); i++)
		{
			err = install_child(ctx, ike_sa, peer_cfg, i);
		}
	}
	proposal->destroy(proposal);
	if (err)
	{
		enumerator_t *enumerator;
		child_sa_t *child_sa;

		/* the CHILD_SAs installed so far have passive DROP policies: remove them */
		enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
		while (enumerator->enumerate(enumerator, &child_sa))
		{
			elastic_import_passive_policies(ike_sa, child_sa, FALSE);
		}
		enumerator->destroy(enumerator);
		ike_sa->destroy(ike_sa);
		charon->bus->set_sa(charon->bus, NULL);
		return err;
	}
	ike_sa->set_state(ike_sa, IKE_PASSIVE);
	*uid = ike_sa->get_unique_id(ike_sa);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	charon->bus->set_sa(charon->bus, NULL);
	return NULL;
}

void elastic_drop_local(elastic_store_t *store, uint32_t uid)
{
	ike_sa_t *ike_sa;

	if (elastic_store_role(store, uid) == ELASTIC_ROLE_ACTIVE)
	{	/* it lives on elsewhere: forget it first, so that no delete is published */
		elastic_store_release(store, uid);
	}
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, uid);
	if (ike_sa)
	{	/* the listener removes a passive VPN's DROP policies and its entry */
		charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager, ike_sa);
	}
	elastic_store_release(store, uid);
}

/** The IKE_SA id of VPN vpn_id's passive copy held here, or 0. */
static uint32_t held_passive(elastic_store_t *store, const char *vpn_id)
{
	uint32_t held = elastic_store_find_vpn(store, vpn_id);

	return held && elastic_store_role(store, held) == ELASTIC_ROLE_PASSIVE ? held : 0;
}

/**
 * A passive copy of VPN vpn_id already held here (e.g. syncd's replica): brought current with
 * the envelope and reused (TRUE, *uid set); dropped if its SAs differ (FALSE: build anew).
 */
static bool reuse_passive(elastic_store_t *store, const char *vpn_id, const void *data,
						  size_t len, uint32_t *uid)
{
	uint32_t held = held_passive(store, vpn_id);

	if (!held)
	{
		return FALSE;
	}
	if (elastic_store_refresh_passive(store, held, data, len) >= 0)
	{
		DBG2(DBG_CFG, "elastic: VPN %s is already held here passive as IKE_SA %u: reused",
			 vpn_id, held);
		*uid = held;
		return TRUE;
	}
	DBG1(DBG_CFG, "elastic: the passive copy of VPN %s has other SAs (rekeyed): rebuilt", vpn_id);
	elastic_drop_local(store, held);
	return FALSE;
}

char *elastic_import(elastic_store_t *store, elastic_listener_t *listener, const void *data,
					 size_t len, bool active, uint64_t margin, uint32_t *uid)
{
	elastic_ctx_t *ctx;
	peer_cfg_t *peer_cfg;
	char *err, *vpn_id, *name;
	uint64_t epoch, version;
	elastic_ike_t ike;

	err = elastic_envelope_decode(data, len, &ctx, &vpn_id, &epoch, &version);
	if (err)
	{
		return err;
	}
	if (!active && reuse_passive(store, vpn_id, data, len, uid))
	{
		free(vpn_id);
		elastic_ctx_destroy(ctx);
		return NULL;
	}
	if (active && elastic_envelope_outbound_stopped(data, len))
	{	/* a released VPN (its owner provably stopped sending) replaces a passive copy held here,
		 * e.g. one made before the VPN was rekeyed during a transfer */
		uint32_t held = held_passive(store, vpn_id);

		if (held)
		{
			DBG2(DBG_CFG, "elastic: the final context of VPN %s replaces its passive copy %u",
				 vpn_id, held);
			elastic_drop_local(store, held);
		}
	}
	elastic_ctx_get_ike(ctx, &ike);
	name = name_of(ike.peer_cfg);
	peer_cfg = charon->backends->get_peer_cfg_by_name(charon->backends, name);
	if (!peer_cfg)
	{
		err = error("unknown connection '%s' here (load the same connections on every gateway)",
					name);
	}
	else
	{
		err = build(ctx, peer_cfg, uid);
		peer_cfg->destroy(peer_cfg);
	}
	free(name);
	if (!err)
	{
		int kind;
		char *id = NULL, *origin = NULL;

		elastic_store_update(store, *uid, elastic_ctx_clone(ctx), ELASTIC_ROLE_PASSIVE);
		free(elastic_envelope_peek(data, len, &kind, &id, &origin, &epoch));
		elastic_store_adopt(store, *uid, vpn_id, origin ?: "", epoch, version);
		free(id);
		free(origin);
		DBG2(DBG_CFG, "elastic: imported VPN %s as passive IKE_SA %u", vpn_id, *uid);
		if (active)
		{
			err = elastic_activate(store, listener, *uid, NULL, 0, margin);
		}
	}
	free(vpn_id);
	elastic_ctx_destroy(ctx);
	return err;
}

/** Jumps counters and installs policies of every CHILD_SA, then establishes the IKE_SA. */
static char *activate_sa(ike_sa_t *ike_sa, elastic_ctx_t *ctx, uint64_t margin)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	char *err = NULL;
	int i, n = elastic_ctx_child_count(ctx);
	elastic_child_t c;
	elastic_ike_t ike;

	elastic_ctx_get_ike(ctx, &ike);
	ike_sa->set_message_id(ike_sa, TRUE, ike.msgid_initiate);
	ike_sa->set_message_id(ike_sa, FALSE, ike.msgid_respond);
	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (!err && enumerator->enumerate(enumerator, &child_sa))
	{
		for (i = 0; i < n; i++)
		{
			if (elastic_ctx_get_child(ctx, i, &c) &&
				c.spi_in == ntohl(child_sa->get_spi(child_sa, TRUE)))
			{
				break;
			}
		}
		if (i == n)
		{	/* a CHILD_SA the context does not know cannot be given safe counters */
			err = error("CHILD_SA %s{%u} is not in the context", child_sa->get_name(child_sa),
						child_sa->get_unique_id(child_sa));
			break;
		}
		err = elastic_set_counters(ctx, i, margin);
		if (!err && child_sa->install_policies(child_sa) != SUCCESS)
		{
			err = error("installing the policies of CHILD_SA %s{%u} failed",
						child_sa->get_name(child_sa), child_sa->get_unique_id(child_sa));
		}
		if (!err)
		{	/* its own IPsec policies are in place: the passive ones are no longer needed */
			elastic_import_passive_policies(ike_sa, child_sa, FALSE);
		}
	}
	enumerator->destroy(enumerator);
	if (!err)
	{
		ike_sa->set_state(ike_sa, IKE_ESTABLISHED);
	}
	return err;
}

char *elastic_activate(elastic_store_t *store, elastic_listener_t *listener, uint32_t uid,
					   const void *final, size_t final_len, uint64_t margin)
{
	elastic_ctx_t *ctx = NULL;
	ike_sa_t *ike_sa;
	char *err, *vpn_id = NULL;
	uint64_t epoch = 0, version = 0;

	if (elastic_store_role(store, uid) != ELASTIC_ROLE_PASSIVE)
	{
		return error("IKE_SA %u is not a passive VPN here", uid);
	}
	err = final ? elastic_envelope_decode(final, final_len, &ctx, &vpn_id, &epoch, &version)
				: elastic_store_context(store, uid, &ctx, &epoch);
	if (!err && final)
	{
		err = elastic_store_check_final(store, uid, ctx, vpn_id);
	}
	if (err)
	{
		free(vpn_id);
		elastic_ctx_destroy(ctx);
		return err;
	}
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, uid);
	if (!ike_sa)
	{
		err = error("IKE_SA %u is gone", uid);
	}
	else
	{
		charon->bus->set_sa(charon->bus, ike_sa);
		err = activate_sa(ike_sa, ctx, margin);
		if (!err)
		{
			elastic_store_activated(store, uid, epoch + 1);
			listener->snapshot(listener, ike_sa);
			DBG1(DBG_CFG, "elastic: activated IKE_SA %u (epoch %llu, sequence numbers +%llu)",
				 uid, (unsigned long long)epoch + 1, (unsigned long long)margin);
			charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
		}
		else
		{	/* half activated is unsafe: drop it here (no DELETE), it lives on elsewhere */
			DBG1(DBG_CFG, "elastic: activating IKE_SA %u failed, dropping it: %s", uid, err);
			elastic_store_release(store, uid);
			charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager, ike_sa);
		}
		charon->bus->set_sa(charon->bus, NULL);
	}
	free(vpn_id);
	elastic_ctx_destroy(ctx);
	return err;
}

void elastic_import_fence_all(ike_sa_t *ike_sa, bool add)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;

	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		elastic_import_fence_outbound(ike_sa, child_sa, add);
	}
	enumerator->destroy(enumerator);
}

/** One fence DROP policy, kept to be removed after its IKE_SA is gone. */
typedef struct {
	traffic_selector_t *src_ts, *dst_ts;
	host_t *src, *dst;
	mark_t mark;
	uint32_t if_id;
	ipsec_mode_t mode;
} fence_t;

static void fence_destroy(fence_t *f)
{
	f->src_ts->destroy(f->src_ts);
	f->dst_ts->destroy(f->dst_ts);
	f->src->destroy(f->src);
	f->dst->destroy(f->dst);
	free(f);
}

/** Copies of the fence policies of ike_sa's CHILD_SAs (see manage_drop()). */
static linked_list_t *save_fences(ike_sa_t *ike_sa)
{
	linked_list_t *list = linked_list_create();
	enumerator_t *children, *policies;
	child_sa_t *child_sa;
	traffic_selector_t *my_ts, *other_ts;
	fence_t *f;

	children = ike_sa->create_child_sa_enumerator(ike_sa);
	while (children->enumerate(children, &child_sa))
	{
		policies = child_sa->create_policy_enumerator(child_sa);
		while (policies->enumerate(policies, &my_ts, &other_ts))
		{
			INIT(f,
				.src_ts = my_ts->clone(my_ts),
				.dst_ts = other_ts->clone(other_ts),
				.src = ike_sa->get_my_host(ike_sa)->clone(ike_sa->get_my_host(ike_sa)),
				.dst = ike_sa->get_other_host(ike_sa)->clone(ike_sa->get_other_host(ike_sa)),
				.mark = child_sa->get_mark(child_sa, FALSE),
				.if_id = child_sa->get_if_id(child_sa, FALSE),
				.mode = child_sa->get_mode(child_sa),
			);
			list->insert_last(list, f);
		}
		policies->destroy(policies);
	}
	children->destroy(children);
	return list;
}

/** Removes the saved fence policies (their IKE_SA, SAs and IPsec policies are gone). */
static void remove_fences(linked_list_t *list)
{
	fence_t *f;

	while (list->remove_first(list, (void**)&f) == SUCCESS)
	{
		drop_policy(f->src_ts, f->dst_ts, f->src, f->dst, f->mark, f->if_id, f->mode,
					POLICY_PRIORITY_PASS, FALSE);
		fence_destroy(f);
	}
	list->destroy(list);
}

/**
 * Waits until every packet that looked up the VPN's outbound policy before the fence went in has
 * taken its sequence number. A forwarded packet goes from the policy lookup to xfrm_output (where
 * the number is assigned) within one softirq, i.e. one RCU read-side section; membarrier's
 * MEMBARRIER_CMD_GLOBAL runs synchronize_rcu(), which waits for all of them. (A fixed sleep is
 * not enough: under load a CPU can be held up for longer, and a late packet would then reuse the
 * number the next owner starts with.) FALSE if the kernel cannot do it: then the final context is
 * not marked exact and the next owner jumps by its margin.
 */
static bool wait_for_packets_in_flight(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
	{
		return TRUE;
	}
	DBG1(DBG_CFG, "elastic: membarrier(MEMBARRIER_CMD_GLOBAL) failed (%s): the final counters "
		 "are not marked exact, the next owner jumps by its margin", strerror(errno));
	return FALSE;
}

void elastic_import_check_barrier(void)
{
	char buf[4] = "";
	FILE *f = fopen("/sys/kernel/rcu_expedited", "r");

	if (f)
	{
		if (!fgets(buf, sizeof(buf), f))
		{
			buf[0] = '\0';
		}
		fclose(f);
	}
	if (buf[0] == '0')
	{
		DBG1(DBG_CFG, "elastic: /sys/kernel/rcu_expedited is 0: a transfer's release waits a full "
			 "RCU grace period (often 10-40 ms) with the VPN's outbound stopped; 1 makes it well "
			 "under a millisecond (docs/tm.md, Tuning)");
	}
}

/** A released VPN's IKE_SA, still checked out, and its fence policies (elastic_release()). */
struct elastic_released_t {
	ike_sa_t *ike_sa;
	linked_list_t *fences;
};

char *elastic_release(elastic_store_t *store, elastic_listener_t *listener, uint32_t uid,
					  unsigned char **out, size_t *len, elastic_released_t **released)
{
	ike_sa_t *ike_sa;
	bool exact;
	char *err;

	*released = NULL;
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, uid);
	if (!ike_sa)
	{
		return error("no IKE_SA with unique id %u here", uid);
	}
	/* nothing is encrypted from here on, so the counters read next are final: the next owner
	 * continues at exactly the next sequence number */
	elastic_import_fence_all(ike_sa, TRUE);
	exact = wait_for_packets_in_flight();
	/* exact message IDs now, counters read by the export */
	listener->snapshot(listener, ike_sa);
	err = exact ? elastic_store_export_final(store, uid, out, len)
				: elastic_store_export(store, uid, out, len);
	if (err)
	{
		elastic_import_fence_all(ike_sa, FALSE);
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
		return err;
	}
	DBG1(DBG_CFG, "elastic: released IKE_SA %s[%u] (no DELETE sent)", ike_sa->get_name(ike_sa),
		 uid);
	/* it lives on elsewhere: forget it before the IKE_SA goes, so that no delete is published;
	 * the IKE_SA stays checked out (fenced, nothing else can use it) until finish */
	elastic_store_release(store, uid);
	INIT(*released,
		.ike_sa = ike_sa,
		.fences = save_fences(ike_sa),
	);
	return NULL;
}

void elastic_release_finish(elastic_released_t *released)
{
	if (!released)
	{
		return;
	}
	/* destroying an IKE_SA sends nothing to the peer, its kernel SAs and IPsec policies go with
	 * it; the fence goes only after them (else a packet could still be encrypted) */
	charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager, released->ike_sa);
	remove_fences(released->fences);
	free(released);
}
