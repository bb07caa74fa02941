#include "elastic_listener.h"
#include "elastic_capture.h"
#include "elastic_import.h"

#include <daemon.h>
#include <sa/ikev2/keymat_v2.h>

typedef struct private_elastic_listener_t private_elastic_listener_t;

struct private_elastic_listener_t {
	elastic_listener_t public;
	elastic_store_t *store;
};

static elastic_buf_t buf(chunk_t c)
{
	return (elastic_buf_t){ .ptr = c.ptr, .len = c.len };
}

METHOD(elastic_listener_t, snapshot, void,
	private_elastic_listener_t *this, ike_sa_t *ike_sa)
{
	elastic_ctx_t *ctx;
	ike_sa_state_t state = ike_sa->get_state(ike_sa);

	if (state != IKE_ESTABLISHED && state != IKE_PASSIVE && state != IKE_REKEYING &&
		state != IKE_REKEYED)
	{
		return;
	}
	ctx = elastic_capture_ike_sa(ike_sa);
	if (ctx)
	{
		elastic_store_update(this->store, ike_sa->get_unique_id(ike_sa), ctx,
				state == IKE_PASSIVE ? ELASTIC_ROLE_PASSIVE : ELASTIC_ROLE_ACTIVE);
	}
}

METHOD(listener_t, ike_keys, bool,
	private_elastic_listener_t *this, ike_sa_t *ike_sa, key_exchange_t *dh,
	chunk_t dh_other, chunk_t nonce_i, chunk_t nonce_r, ike_sa_t *rekey,
	shared_key_t *shared, auth_method_t method)
{
	chunk_t secret = chunk_empty, old_skd = chunk_empty;
	pseudo_random_function_t old_prf = PRF_UNDEFINED;

	if (ike_sa->get_version(ike_sa) != IKEV2 || !dh->get_shared_secret(dh, &secret))
	{
		return TRUE;
	}
	if (rekey)
	{	/* keys of a rekeyed IKE_SA derive from the old SA's SK_d */
		keymat_v2_t *keymat = (keymat_v2_t*)rekey->get_keymat(rekey);
		old_prf = keymat->get_skd(keymat, &old_skd);
	}
	elastic_store_ike_keys(this->store, ike_sa->get_unique_id(ike_sa), buf(secret),
						   buf(nonce_i), buf(nonce_r), buf(old_skd),
						   old_prf == PRF_UNDEFINED ? 0 : old_prf);
	chunk_clear(&secret);
	return TRUE;
}

METHOD(listener_t, child_derived_keys, bool,
	private_elastic_listener_t *this, ike_sa_t *ike_sa, child_sa_t *child_sa,
	bool initiator, chunk_t encr_i, chunk_t encr_r, chunk_t integ_i, chunk_t integ_r)
{
	if (ike_sa->get_version(ike_sa) == IKEV2)
	{
		elastic_store_child_keys(this->store, child_sa->get_unique_id(child_sa), initiator,
								 buf(encr_i), buf(integ_i), buf(encr_r), buf(integ_r));
	}
	return TRUE;
}

METHOD(listener_t, ike_updown, bool,
	private_elastic_listener_t *this, ike_sa_t *ike_sa, bool up)
{
	if (up)
	{
		snapshot(this, ike_sa);
	}
	else
	{
		elastic_store_remove(this->store, ike_sa->get_unique_id(ike_sa));
	}
	return TRUE;
}

METHOD(listener_t, ike_state_change, bool,
	private_elastic_listener_t *this, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	int role;

	if (state == IKE_DESTROYING)
	{
		role = elastic_store_role(this->store, ike_sa->get_unique_id(ike_sa));
		if (role == ELASTIC_ROLE_PASSIVE || role == ELASTIC_ROLE_FENCED)
		{	/* a passive or fenced VPN dropped here: remove the policies the plugin added */
			enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
			while (enumerator->enumerate(enumerator, &child_sa))
			{
				if (role == ELASTIC_ROLE_PASSIVE)
				{
					elastic_import_passive_policies(ike_sa, child_sa, FALSE);
				}
				else
				{
					elastic_import_fence_outbound(ike_sa, child_sa, FALSE);
				}
			}
			enumerator->destroy(enumerator);
		}
		elastic_store_remove(this->store, ike_sa->get_unique_id(ike_sa));
	}
	return TRUE;
}

METHOD(listener_t, ike_rekey, bool,
	private_elastic_listener_t *this, ike_sa_t *old, ike_sa_t *new)
{
	/* raised after inherit_post(): the CHILD_SAs already belong to the new IKE_SA */
	elastic_store_rekeyed(this->store, old->get_unique_id(old), new->get_unique_id(new));
	snapshot(this, new);
	return TRUE;
}

METHOD(listener_t, ike_update, bool,
	private_elastic_listener_t *this, ike_sa_t *ike_sa, host_t *local, host_t *remote)
{
	snapshot(this, ike_sa);
	return TRUE;
}

METHOD(listener_t, child_state_change, bool,
	private_elastic_listener_t *this, ike_sa_t *ike_sa, child_sa_t *child_sa,
	child_sa_state_t state)
{
	/* CHILD_SAs appear when installed and disappear when deleted */
	if (state == CHILD_INSTALLED || state == CHILD_DELETED || state == CHILD_DESTROYING)
	{
		snapshot(this, ike_sa);
	}
	if (state == CHILD_DESTROYING)
	{	/* its keys are no longer needed anywhere */
		elastic_store_child_gone(this->store, child_sa->get_unique_id(child_sa));
	}
	return TRUE;
}

METHOD(listener_t, child_updown, bool,
	private_elastic_listener_t *this, ike_sa_t *ike_sa, child_sa_t *child_sa, bool up)
{
	/* called once the CHILD_SA is attached to (or detached from) its IKE_SA */
	snapshot(this, ike_sa);
	return TRUE;
}

METHOD(listener_t, child_rekey, bool,
	private_elastic_listener_t *this, ike_sa_t *ike_sa, child_sa_t *old, child_sa_t *new)
{
	snapshot(this, ike_sa);
	return TRUE;
}

METHOD(listener_t, assign_vips, bool,
	private_elastic_listener_t *this, ike_sa_t *ike_sa, bool assign)
{
	snapshot(this, ike_sa);
	return TRUE;
}

METHOD(listener_t, message_hook, bool,
	private_elastic_listener_t *this, ike_sa_t *ike_sa, message_t *message,
	bool incoming, bool plain)
{
	uint32_t mid;

	if (!plain || ike_sa->get_version(ike_sa) != IKEV2 ||
		message->get_exchange_type(message) == IKE_SA_INIT ||
		message->get_request(message))
	{
		return TRUE;
	}
	/* Counters move when an exchange completes, not when a request arrives: if this gateway
	 * dies between a request and its response, the EU retransmits the request and the gateway
	 * taking over must still expect that message ID (it has no cached response to replay). */
	mid = message->get_message_id(message) + 1;
	if (incoming)
	{	/* the response to our request n: our next request is n + 1 */
		elastic_store_message_ids(this->store, ike_sa->get_unique_id(ike_sa), mid,
								  ike_sa->get_message_id(ike_sa, FALSE));
	}
	else
	{	/* our response to the EU's request n: its next request is n + 1 */
		elastic_store_message_ids(this->store, ike_sa->get_unique_id(ike_sa),
								  ike_sa->get_message_id(ike_sa, TRUE), mid);
	}
	return TRUE;
}

METHOD(elastic_listener_t, destroy, void,
	private_elastic_listener_t *this)
{
	free(this);
}

elastic_listener_t *elastic_listener_create(elastic_store_t *store)
{
	private_elastic_listener_t *this;

	INIT(this,
		.public = {
			.listener = {
				.ike_keys = _ike_keys,
				.child_derived_keys = _child_derived_keys,
				.ike_updown = _ike_updown,
				.ike_state_change = _ike_state_change,
				.ike_rekey = _ike_rekey,
				.ike_update = _ike_update,
				.child_state_change = _child_state_change,
				.child_updown = _child_updown,
				.child_rekey = _child_rekey,
				.assign_vips = _assign_vips,
				.message = _message_hook,
			},
			.snapshot = _snapshot,
			.destroy = _destroy,
		},
		.store = store,
	);
	return &this->public;
}
