#include "elastic_capture.h"

#include <daemon.h>
#include <endian.h>
#include <netinet/in.h>
#include <time.h>

uint64_t elastic_capture_wallclock(time_t monotonic)
{
	if (!monotonic)
	{
		return 0;
	}
	return (uint64_t)(time(NULL) - time_monotonic(NULL) + monotonic);
}

static elastic_buf_t buf(chunk_t c)
{
	return (elastic_buf_t){ .ptr = c.ptr, .len = c.len };
}

static elastic_buf_t str(const char *s)
{
	return (elastic_buf_t){ .ptr = s, .len = strlen(s) };
}

/** The host's address stays valid as long as the host: the caller keeps it until set. */
static elastic_endpoint_t endpoint(host_t *host)
{
	return (elastic_endpoint_t){ .address = buf(host->get_address(host)),
								 .port = host->get_port(host) };
}

static elastic_identity_t identity(identification_t *id)
{
	/* strongSwan's id_type_t uses the IKEv2 ID payload values */
	return (elastic_identity_t){ .type = id->get_type(id), .data = buf(id->get_encoding(id)) };
}

static elastic_algs_t algorithms(proposal_t *proposal)
{
	elastic_algs_t algs = {};
	uint16_t alg, len;

	if (!proposal)
	{
		return algs;
	}
	if (proposal->get_algorithm(proposal, ENCRYPTION_ALGORITHM, &alg, &len))
	{
		algs.encryption = alg;
		algs.encryption_key_bits = len;
	}
	if (proposal->get_algorithm(proposal, INTEGRITY_ALGORITHM, &alg, NULL))
	{
		algs.integrity = alg;
	}
	if (proposal->get_algorithm(proposal, KEY_EXCHANGE_METHOD, &alg, NULL))
	{
		algs.dh_group = alg;
	}
	if (proposal->get_algorithm(proposal, PSEUDO_RANDOM_FUNCTION, &alg, NULL))
	{
		algs.prf = alg;
	}
	if (proposal->get_algorithm(proposal, EXTENDED_SEQUENCE_NUMBERS, &alg, NULL))
	{
		algs.esn = alg == EXT_SEQ_NUMBERS;
	}
	return algs;
}

static uint32_t condition_bits(ike_sa_t *ike_sa)
{
	uint32_t bits = 0, bit;

	for (bit = 1; bit && bit <= COND_AUTHENTICATED; bit <<= 1)
	{
		bits |= ike_sa->has_condition(ike_sa, bit) ? bit : 0;
	}
	return bits;
}

static uint32_t extension_bits(ike_sa_t *ike_sa)
{
	uint32_t bits = 0, bit;

	for (bit = 1; bit && bit <= EXT_IKE_CHILDLESS; bit <<= 1)
	{
		bits |= ike_sa->supports_extension(ike_sa, bit) ? bit : 0;
	}
	return bits;
}

static void capture_vips(elastic_ctx_t *ctx, ike_sa_t *ike_sa, bool local)
{
	enumerator_t *enumerator;
	host_t *host;

	enumerator = ike_sa->create_virtual_ip_enumerator(ike_sa, local);
	while (enumerator->enumerate(enumerator, &host))
	{
		elastic_ctx_add_vip(ctx, local, buf(host->get_address(host)));
	}
	enumerator->destroy(enumerator);
}

static void capture_ike(elastic_ctx_t *ctx, ike_sa_t *ike_sa)
{
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);
	peer_cfg_t *peer_cfg = ike_sa->get_peer_cfg(ike_sa);
	identification_t *eap = ike_sa->get_other_eap_id(ike_sa);
	elastic_ike_t ike = {
		/* SPIs as numbers in host order (charon keeps them in network order) */
		.spi_i = be64toh(id->get_initiator_spi(id)),
		.spi_r = be64toh(id->get_responder_spi(id)),
		.initiator = id->is_initiator(id),
		.algs = algorithms(ike_sa->get_proposal(ike_sa)),
		.local_id = identity(ike_sa->get_my_id(ike_sa)),
		.remote_id = identity(ike_sa->get_other_id(ike_sa)),
		.local = endpoint(ike_sa->get_my_host(ike_sa)),
		.remote = endpoint(ike_sa->get_other_host(ike_sa)),
		.local_behind_nat = ike_sa->has_condition(ike_sa, COND_NAT_HERE),
		.remote_behind_nat = ike_sa->has_condition(ike_sa, COND_NAT_THERE),
		.nat_faked = ike_sa->has_condition(ike_sa, COND_NAT_FAKE),
		.peer_cfg = str(ike_sa->get_name(ike_sa)),
		.msgid_initiate = ike_sa->get_message_id(ike_sa, TRUE),
		.msgid_respond = ike_sa->get_message_id(ike_sa, FALSE),
		.conditions = condition_bits(ike_sa),
		.extensions = extension_bits(ike_sa),
		.times = {
			.established = elastic_capture_wallclock(ike_sa->get_statistic(ike_sa, STAT_ESTABLISHED)),
			.rekey_at = elastic_capture_wallclock(ike_sa->get_statistic(ike_sa, STAT_REKEY)),
			.reauth_at = elastic_capture_wallclock(ike_sa->get_statistic(ike_sa, STAT_REAUTH)),
			.expire_at = elastic_capture_wallclock(ike_sa->get_statistic(ike_sa, STAT_DELETE)),
		},
		.unique_id = ike_sa->get_unique_id(ike_sa),
		.dpd_interval = peer_cfg ? peer_cfg->get_dpd(peer_cfg) : 0,
	};

	if (eap && !eap->equals(eap, ike_sa->get_other_id(ike_sa)))
	{
		ike.remote_eap_id = identity(eap);
	}
	elastic_ctx_set_ike(ctx, &ike);
	capture_vips(ctx, ike_sa, FALSE);
	capture_vips(ctx, ike_sa, TRUE);
}

static void capture_ts(elastic_ctx_t *ctx, int child, child_sa_t *child_sa, bool local)
{
	traffic_selector_t *ts;
	enumerator_t *enumerator;

	enumerator = child_sa->create_ts_enumerator(child_sa, local);
	while (enumerator->enumerate(enumerator, &ts))
	{
		elastic_ts_t out = {
			.protocol = ts->get_protocol(ts),
			.from = buf(ts->get_from_address(ts)),
			.to = buf(ts->get_to_address(ts)),
			.from_port = ts->get_from_port(ts),
			.to_port = ts->get_to_port(ts),
		};
		elastic_ctx_add_ts(ctx, child, local, &out);
	}
	enumerator->destroy(enumerator);
}

/** ipsec_mode_t to the schema's ChildMode */
static elastic_mode_t mode_of(ipsec_mode_t mode)
{
	switch (mode)
	{
		case MODE_TUNNEL:
			return ELASTIC_MODE_TUNNEL;
		case MODE_TRANSPORT:
			return ELASTIC_MODE_TRANSPORT;
		case MODE_BEET:
			return ELASTIC_MODE_BEET;
		default:
			return ELASTIC_MODE_UNSPECIFIED;
	}
}

static void capture_child(elastic_ctx_t *ctx, child_sa_t *child_sa)
{
	mark_t mark_in = child_sa->get_mark(child_sa, TRUE);
	mark_t mark_out = child_sa->get_mark(child_sa, FALSE);
	elastic_child_t child = {
		.child_cfg = str(child_sa->get_name(child_sa)),
		.spi_in = ntohl(child_sa->get_spi(child_sa, TRUE)),
		.spi_out = ntohl(child_sa->get_spi(child_sa, FALSE)),
		.protocol = child_sa->get_protocol(child_sa) == PROTO_AH ? IPPROTO_AH : IPPROTO_ESP,
		.mode = mode_of(child_sa->get_mode(child_sa)),
		.udp_encap = child_sa->has_encap(child_sa),
		.cpi_in = ntohs(child_sa->get_cpi(child_sa, TRUE)),
		.cpi_out = ntohs(child_sa->get_cpi(child_sa, FALSE)),
		.algs = algorithms(child_sa->get_proposal(child_sa)),
		.reqid = child_sa->get_reqid(child_sa),
		.mark_in = { .value = mark_in.value, .mask = mark_in.mask },
		.mark_out = { .value = mark_out.value, .mask = mark_out.mask },
		.if_id_in = child_sa->get_if_id(child_sa, TRUE),
		.if_id_out = child_sa->get_if_id(child_sa, FALSE),
		.times = {
			.installed = elastic_capture_wallclock(child_sa->get_installtime(child_sa)),
			.rekey_at = elastic_capture_wallclock(child_sa->get_lifetime(child_sa, FALSE)),
			.expire_at = elastic_capture_wallclock(child_sa->get_lifetime(child_sa, TRUE)),
		},
		.unique_id = child_sa->get_unique_id(child_sa),
	};
	int i = elastic_ctx_add_child(ctx, &child);

	capture_ts(ctx, i, child_sa, TRUE);
	capture_ts(ctx, i, child_sa, FALSE);
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
