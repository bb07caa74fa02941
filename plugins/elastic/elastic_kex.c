#include "elastic_kex.h"

typedef struct private_elastic_kex_t private_elastic_kex_t;

struct private_elastic_kex_t {
	key_exchange_t public;
	chunk_t secret;
	key_exchange_method_t method;
};

METHOD(key_exchange_t, get_shared_secret, bool,
	private_elastic_kex_t *this, chunk_t *secret)
{
	*secret = chunk_clone(this->secret);
	return TRUE;
}

METHOD(key_exchange_t, set_public_key, bool,
	private_elastic_kex_t *this, chunk_t value)
{
	return FALSE;
}

METHOD(key_exchange_t, get_public_key, bool,
	private_elastic_kex_t *this, chunk_t *value)
{
	return FALSE;
}

METHOD(key_exchange_t, get_method, key_exchange_method_t,
	private_elastic_kex_t *this)
{
	return this->method;
}

METHOD(key_exchange_t, destroy, void,
	private_elastic_kex_t *this)
{
	chunk_clear(&this->secret);
	free(this);
}

key_exchange_t *elastic_kex_create(chunk_t secret, key_exchange_method_t method)
{
	private_elastic_kex_t *this;

	INIT(this,
		.public = {
			.get_shared_secret = _get_shared_secret,
			.set_public_key = _set_public_key,
			.get_public_key = _get_public_key,
			.get_method = _get_method,
			.destroy = _destroy,
		},
		.secret = chunk_clone(secret),
		.method = method,
	);
	return &this->public;
}
