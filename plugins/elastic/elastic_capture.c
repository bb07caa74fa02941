#include "elastic_capture.h"

#include <daemon.h>
#include <endian.h>
#include <netinet/in.h>
#include <time.h>

/** Formats a field path into a stack buffer. */
#define PATH(buf, ...) (snprintf(buf, sizeof(buf), __VA_ARGS__), buf)

uint64_t elastic_capture_wallclock(time_t monotonic)
{
	if (!monotonic)
	{
		return 0;
	}
	return (uint64_t)(time(NULL) - time_monotonic(NULL) + monotonic);
}

static void set_host(elastic_ctx_t *ctx, const char *prefix, host_t *host)
{
	char p[128];
	chunk_t addr = host->get_address(host);

	elastic_ctx_set_bytes(ctx, PATH(p, "%s.address", prefix), addr.ptr, addr.len);
	elastic_ctx_set_u64(ctx, PATH(p, "%s.port", prefix), host->get_port(host));
}

static void set_id(elastic_ctx_t *ctx, const char *prefix, identification_t *id)
{
	char p[128];
	chunk_t data = id->get_encoding(id);

	/* strongSwan's id_type_t uses the IKEv2 ID payload values */
	elastic_ctx_set_u64(ctx, PATH(p, "%s.type", prefix), id->get_type(id));
	elastic_ctx_set_bytes(ctx, PATH(p, "%s.data", prefix), data.ptr, data.len);
}

static void set_algorithms(elastic_ctx_t *ctx, const char *prefix, proposal_t *proposal)
{
	uint16_t alg, len;
	char p[128];

	if (proposal->get_algorithm(proposal, ENCRYPTION_ALGORITHM, &alg, &len))
	{
		elastic_ctx_set_u64(ctx, PATH(p, "%s.encryption", prefix), alg);
		elastic_ctx_set_u64(ctx, PATH(p, "%s.encryption_key_bits", prefix), len);
	}
	if (proposal->get_algorithm(proposal, INTEGRITY_ALGORITHM, &alg, NULL))
	{
		elastic_ctx_set_u64(ctx, PATH(p, "%s.integrity", prefix), alg);
	}
	if (proposal->get_algorithm(proposal, KEY_EXCHANGE_METHOD, &alg, NULL))
	{
		elastic_ctx_set_u64(ctx, PATH(p, "%s.dh_group", prefix), alg);
	}
}

static void capture_ike(elastic_ctx_t *ctx, ike_sa_t *ike_sa)
{
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);
	proposal_t *proposal = ike_sa->get_proposal(ike_sa);
	peer_cfg_t *peer_cfg = ike_sa->get_peer_cfg(ike_sa);
	identification_t *eap = ike_sa->get_other_eap_id(ike_sa);
	enumerator_t *enumerator;
	uint32_t bits = 0, bit;
	uint16_t prf;
	host_t *host;

	/* SPIs as numbers in host order (charon keeps them in network order) */
	elastic_ctx_set_u64(ctx, "ike_sa.spi_i", be64toh(id->get_initiator_spi(id)));
	elastic_ctx_set_u64(ctx, "ike_sa.spi_r", be64toh(id->get_responder_spi(id)));
	elastic_ctx_set_u64(ctx, "ike_sa.role", id->is_initiator(id) ? 1 : 2);
	elastic_ctx_set_u64(ctx, "ike_sa.ike_version", 2);
	if (proposal)
	{
		set_algorithms(ctx, "ike_sa.algorithms", proposal);
		if (proposal->get_algorithm(proposal, PSEUDO_RANDOM_FUNCTION, &prf, NULL))
		{
			elastic_ctx_set_u64(ctx, "ike_sa.algorithms.prf", prf);
		}
	}
	set_id(ctx, "ike_sa.local_id", ike_sa->get_my_id(ike_sa));
	set_id(ctx, "ike_sa.remote_id", ike_sa->get_other_id(ike_sa));
	if (eap && !eap->equals(eap, ike_sa->get_other_id(ike_sa)))
	{
		set_id(ctx, "ike_sa.remote_eap_id", eap);
	}
	set_host(ctx, "ike_sa.local", ike_sa->get_my_host(ike_sa));
	set_host(ctx, "ike_sa.remote", ike_sa->get_other_host(ike_sa));
	elastic_ctx_set_u64(ctx, "ike_sa.nat.local_behind_nat", ike_sa->has_condition(ike_sa, COND_NAT_HERE));
	elastic_ctx_set_u64(ctx, "ike_sa.nat.remote_behind_nat", ike_sa->has_condition(ike_sa, COND_NAT_THERE));
	elastic_ctx_set_u64(ctx, "ike_sa.nat.faked", ike_sa->has_condition(ike_sa, COND_NAT_FAKE));
	elastic_ctx_set_bytes(ctx, "ike_sa.peer_cfg", ike_sa->get_name(ike_sa), strlen(ike_sa->get_name(ike_sa)));
	elastic_ctx_set_u64(ctx, "ike_sa.message_ids.initiate", ike_sa->get_message_id(ike_sa, TRUE));
	elastic_ctx_set_u64(ctx, "ike_sa.message_ids.respond", ike_sa->get_message_id(ike_sa, FALSE));
	for (bit = 1; bit && bit <= COND_AUTHENTICATED; bit <<= 1)
	{
		bits |= ike_sa->has_condition(ike_sa, bit) ? bit : 0;
	}
	elastic_ctx_set_u64(ctx, "ike_sa.conditions", bits);
	for (bits = 0, bit = 1; bit && bit <= EXT_IKE_CHILDLESS; bit <<= 1)
	{
		bits |= ike_sa->supports_extension(ike_sa, bit) ? bit : 0;
	}
	elastic_ctx_set_u64(ctx, "ike_sa.extensions", bits);
	enumerator = ike_sa->create_virtual_ip_enumerator(ike_sa, FALSE);
	while (enumerator->enumerate(enumerator, &host))
	{
		chunk_t a = host->get_address(host);
		elastic_ctx_add_bytes(ctx, "ike_sa.remote_virtual_ips", a.ptr, a.len);
	}
	enumerator->destroy(enumerator);
	enumerator = ike_sa->create_virtual_ip_enumerator(ike_sa, TRUE);
	while (enumerator->enumerate(enumerator, &host))
	{
		chunk_t a = host->get_address(host);
		elastic_ctx_add_bytes(ctx, "ike_sa.local_virtual_ips", a.ptr, a.len);
	}
	enumerator->destroy(enumerator);
	elastic_ctx_set_u64(ctx, "ike_sa.lifetimes.established",
		elastic_capture_wallclock(ike_sa->get_statistic(ike_sa, STAT_ESTABLISHED)));
	elastic_ctx_set_u64(ctx, "ike_sa.lifetimes.rekey_at",
		elastic_capture_wallclock(ike_sa->get_statistic(ike_sa, STAT_REKEY)));
	elastic_ctx_set_u64(ctx, "ike_sa.lifetimes.reauth_at",
		elastic_capture_wallclock(ike_sa->get_statistic(ike_sa, STAT_REAUTH)));
	elastic_ctx_set_u64(ctx, "ike_sa.lifetimes.expire_at",
		elastic_capture_wallclock(ike_sa->get_statistic(ike_sa, STAT_DELETE)));
	elastic_ctx_set_u64(ctx, "ike_sa.unique_id", ike_sa->get_unique_id(ike_sa));
	if (peer_cfg)
	{
		elastic_ctx_set_u64(ctx, "ike_sa.dpd_interval", peer_cfg->get_dpd(peer_cfg));
	}
}

static void capture_ts(elastic_ctx_t *ctx, const char *list, child_sa_t *child_sa, bool local)
{
	traffic_selector_t *ts;
	enumerator_t *enumerator;
	char p[128];
	chunk_t a;
	int i;

	enumerator = child_sa->create_ts_enumerator(child_sa, local);
	while (enumerator->enumerate(enumerator, &ts))
	{
		i = elastic_ctx_add(ctx, list);
		a = ts->get_from_address(ts);
		elastic_ctx_set_bytes(ctx, PATH(p, "%s[%d].from_address", list, i), a.ptr, a.len);
		a = ts->get_to_address(ts);
		elastic_ctx_set_bytes(ctx, PATH(p, "%s[%d].to_address", list, i), a.ptr, a.len);
		elastic_ctx_set_u64(ctx, PATH(p, "%s[%d].protocol", list, i), ts->get_protocol(ts));
		elastic_ctx_set_u64(ctx, PATH(p, "%s[%d].from_port", list, i), ts->get_from_port(ts));
		elastic_ctx_set_u64(ctx, PATH(p, "%s[%d].to_port", list, i), ts->get_to_port(ts));
	}
	enumerator->destroy(enumerator);
}

/** ipsec_mode_t to the schema's ChildMode */
static int mode_of(ipsec_mode_t mode)
{
	switch (mode)
	{
		case MODE_TUNNEL:
			return 1;
		case MODE_TRANSPORT:
			return 2;
		case MODE_BEET:
			return 3;
		default:
			return 0;
	}
}

static void capture_child(elastic_ctx_t *ctx, child_sa_t *child_sa)
{
	char p[128], c[64];
	proposal_t *proposal = child_sa->get_proposal(child_sa);
	mark_t mark;
	uint16_t esn;
	int i;

	i = elastic_ctx_add(ctx, "ike_sa.child_sas");
	PATH(c, "ike_sa.child_sas[%d]", i);
	elastic_ctx_set_bytes(ctx, PATH(p, "%s.child_cfg", c), child_sa->get_name(child_sa),
						  strlen(child_sa->get_name(child_sa)));
	elastic_ctx_set_u64(ctx, PATH(p, "%s.spi_in", c), ntohl(child_sa->get_spi(child_sa, TRUE)));
	elastic_ctx_set_u64(ctx, PATH(p, "%s.spi_out", c), ntohl(child_sa->get_spi(child_sa, FALSE)));
	elastic_ctx_set_u64(ctx, PATH(p, "%s.protocol", c),
						child_sa->get_protocol(child_sa) == PROTO_AH ? IPPROTO_AH : IPPROTO_ESP);
	elastic_ctx_set_u64(ctx, PATH(p, "%s.mode", c), mode_of(child_sa->get_mode(child_sa)));
	elastic_ctx_set_u64(ctx, PATH(p, "%s.udp_encap", c), child_sa->has_encap(child_sa));
	elastic_ctx_set_u64(ctx, PATH(p, "%s.cpi_in", c), ntohs(child_sa->get_cpi(child_sa, TRUE)));
	elastic_ctx_set_u64(ctx, PATH(p, "%s.cpi_out", c), ntohs(child_sa->get_cpi(child_sa, FALSE)));
	if (proposal)
	{
		set_algorithms(ctx, PATH(p, "%s.algorithms", c), proposal);
		if (proposal->get_algorithm(proposal, EXTENDED_SEQUENCE_NUMBERS, &esn, NULL))
		{
			elastic_ctx_set_u64(ctx, PATH(p, "%s.algorithms.esn", c), esn == EXT_SEQ_NUMBERS);
		}
	}
	capture_ts(ctx, PATH(p, "%s.local_ts", c), child_sa, TRUE);
	capture_ts(ctx, PATH(p, "%s.remote_ts", c), child_sa, FALSE);
	elastic_ctx_set_u64(ctx, PATH(p, "%s.reqid", c), child_sa->get_reqid(child_sa));
	mark = child_sa->get_mark(child_sa, TRUE);
	elastic_ctx_set_u64(ctx, PATH(p, "%s.mark_in.value", c), mark.value);
	elastic_ctx_set_u64(ctx, PATH(p, "%s.mark_in.mask", c), mark.mask);
	mark = child_sa->get_mark(child_sa, FALSE);
	elastic_ctx_set_u64(ctx, PATH(p, "%s.mark_out.value", c), mark.value);
	elastic_ctx_set_u64(ctx, PATH(p, "%s.mark_out.mask", c), mark.mask);
	elastic_ctx_set_u64(ctx, PATH(p, "%s.if_id_in", c), child_sa->get_if_id(child_sa, TRUE));
	elastic_ctx_set_u64(ctx, PATH(p, "%s.if_id_out", c), child_sa->get_if_id(child_sa, FALSE));
	elastic_ctx_set_u64(ctx, PATH(p, "%s.lifetimes.installed", c),
						elastic_capture_wallclock(child_sa->get_installtime(child_sa)));
	elastic_ctx_set_u64(ctx, PATH(p, "%s.lifetimes.rekey_at", c),
						elastic_capture_wallclock(child_sa->get_lifetime(child_sa, FALSE)));
	elastic_ctx_set_u64(ctx, PATH(p, "%s.lifetimes.expire_at", c),
						elastic_capture_wallclock(child_sa->get_lifetime(child_sa, TRUE)));
	elastic_ctx_set_u64(ctx, PATH(p, "%s.unique_id", c), child_sa->get_unique_id(child_sa));
}

elastic_ctx_t *elastic_capture_ike_sa(ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	elastic_ctx_t *ctx;

	if (ike_sa->get_version(ike_sa) != IKEV2)
	{
		return NULL;
	}
	ctx = elastic_ctx_create();
	capture_ike(ctx, ike_sa);
	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		switch (child_sa->get_state(child_sa))
		{
			case CHILD_INSTALLED:
			case CHILD_UPDATING:
			case CHILD_REKEYING:
			case CHILD_REKEYED:
				capture_child(ctx, child_sa);
				break;
			default:
				break;
		}
	}
	enumerator->destroy(enumerator);
	return ctx;
}
