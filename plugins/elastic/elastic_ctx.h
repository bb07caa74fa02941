/*
 * A VPN context (proto/elastic.proto, VpnContext) seen from C: an opaque handle that strongSwan's C
 * layer fills and reads through plain C structs, converted to and from the protobuf message in one
 * C++ place (elastic_ctx.cpp). The compiler checks every field name; the C layer stays free of C++
 * and protobuf.
 *
 * Byte fields are views (elastic_buf_t): a setter copies them, a getter points into the context
 * and the view stays valid until the context is changed or destroyed. An empty field reads as
 * {NULL, 0}.
 */
#ifndef ELASTIC_CTX_H_
#define ELASTIC_CTX_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct elastic_ctx_t elastic_ctx_t;

typedef struct {
	const void *ptr;
	size_t len;
} elastic_buf_t;

/** An address (4 or 16 bytes, network order) and UDP port. */
typedef struct {
	elastic_buf_t address;
	uint16_t port;
} elastic_endpoint_t;

/** An IKEv2 identity: ID payload type (0 = none) and its encoding. */
typedef struct {
	uint32_t type;
	elastic_buf_t data;
} elastic_identity_t;

/** Negotiated transforms (IKEv2 IDs); prf for IKE_SAs only, esn for CHILD_SAs only. */
typedef struct {
	uint16_t encryption;
	uint16_t encryption_key_bits;
	uint16_t integrity;
	uint16_t prf;
	uint16_t dh_group;
	bool esn;
} elastic_algs_t;

/** What an IKE_SA's keys derive from (never logged). Empty when captured: the store adds them. */
typedef struct {
	elastic_buf_t shared_secret;
	elastic_buf_t nonce_i;
	elastic_buf_t nonce_r;
	elastic_buf_t old_sk_d;
	uint16_t old_prf;
} elastic_ike_keys_t;

/** Wall-clock times in seconds, 0 = never. */
typedef struct {
	uint64_t established;
	uint64_t rekey_at;
	uint64_t reauth_at;
	uint64_t expire_at;
} elastic_ike_times_t;

/** The IKE_SA of a context (its virtual IPs and CHILD_SAs are lists, see below). */
typedef struct {
	uint64_t spi_i;  /* host order */
	uint64_t spi_r;
	bool initiator;  /* this gateway is the IKE_SA's original initiator */
	elastic_algs_t algs;
	elastic_ike_keys_t keys;
	elastic_identity_t local_id;
	elastic_identity_t remote_id;
	elastic_identity_t remote_eap_id;  /* type 0: the same as remote_id */
	elastic_endpoint_t local;
	elastic_endpoint_t remote;
	bool local_behind_nat;
	bool remote_behind_nat;
	bool nat_faked;
	elastic_buf_t peer_cfg;  /* connection name, not NUL-terminated */
	uint32_t msgid_initiate;  /* next request ID this gateway sends */
	uint32_t msgid_respond;   /* next request ID this gateway expects */
	uint32_t conditions;      /* ike_condition_t bits */
	uint32_t extensions;      /* ike_extension_t bits */
	elastic_ike_times_t times;
	uint32_t unique_id;
	uint32_t dpd_interval;
} elastic_ike_t;

typedef enum {
	ELASTIC_MODE_UNSPECIFIED = 0,
	ELASTIC_MODE_TUNNEL = 1,
	ELASTIC_MODE_TRANSPORT = 2,
	ELASTIC_MODE_BEET = 3,
} elastic_mode_t;

typedef struct {
	uint32_t value;
	uint32_t mask;
} elastic_mark_t;

/** A CHILD_SA's keys (never logged); "i" protects what the CHILD_SA's initiator sends. */
typedef struct {
	elastic_buf_t encryption_i;
	elastic_buf_t integrity_i;
	elastic_buf_t encryption_r;
	elastic_buf_t integrity_r;
} elastic_child_keys_t;

typedef struct {
	uint64_t installed;
	uint64_t rekey_at;
	uint64_t expire_at;
} elastic_child_times_t;

/** A CHILD_SA (its traffic selectors are lists, see below). */
typedef struct {
	elastic_buf_t child_cfg;  /* CHILD_SA config name, not NUL-terminated */
	uint32_t spi_in;          /* host order */
	uint32_t spi_out;
	uint8_t protocol;         /* IPPROTO_ESP or IPPROTO_AH */
	elastic_mode_t mode;
	bool udp_encap;
	uint16_t cpi_in;          /* host order, 0 = no IPComp */
	uint16_t cpi_out;
	elastic_algs_t algs;
	elastic_child_keys_t keys;  /* empty when captured: the store adds them */
	bool initiator;             /* this gateway initiated the CHILD_SA (set with the keys) */
	uint32_t reqid;
	elastic_mark_t mark_in;
	elastic_mark_t mark_out;
	uint32_t if_id_in;
	uint32_t if_id_out;
	elastic_child_times_t times;
	uint32_t unique_id;
} elastic_child_t;

/** A traffic selector: an address range (4 or 16 bytes each) and port range. */
typedef struct {
	uint8_t protocol;  /* 0 = any */
	elastic_buf_t from;
	elastic_buf_t to;
	uint16_t from_port;
	uint16_t to_port;
} elastic_ts_t;

/** A new, empty context. */
elastic_ctx_t *elastic_ctx_create(void);

/** A copy of a context. */
elastic_ctx_t *elastic_ctx_clone(const elastic_ctx_t *ctx);

/** Destroys a context, wiping its key material first. NULL is fine. */
void elastic_ctx_destroy(elastic_ctx_t *ctx);

/** Sets the IKE_SA's fields (keys only if given); lists are left as they are. */
void elastic_ctx_set_ike(elastic_ctx_t *ctx, const elastic_ike_t *ike);

/** Reads the IKE_SA's fields (all zero/empty for an empty context). */
void elastic_ctx_get_ike(const elastic_ctx_t *ctx, elastic_ike_t *ike);

/** Appends a virtual IP held by this gateway (local) or assigned to the EU (!local). */
void elastic_ctx_add_vip(elastic_ctx_t *ctx, bool local, elastic_buf_t address);

/** Number of virtual IPs of one side. */
int elastic_ctx_vip_count(const elastic_ctx_t *ctx, bool local);

/** Virtual IP i of one side; FALSE if there is none. */
bool elastic_ctx_get_vip(const elastic_ctx_t *ctx, bool local, int i, elastic_buf_t *address);

/** Appends a CHILD_SA (keys only if given); returns its index. */
int elastic_ctx_add_child(elastic_ctx_t *ctx, const elastic_child_t *child);

/** Number of CHILD_SAs. */
int elastic_ctx_child_count(const elastic_ctx_t *ctx);

/** CHILD_SA i; FALSE if there is none. */
bool elastic_ctx_get_child(const elastic_ctx_t *ctx, int i, elastic_child_t *child);

/** Appends a local (or remote) traffic selector to CHILD_SA i; FALSE if there is no such CHILD_SA. */
bool elastic_ctx_add_ts(elastic_ctx_t *ctx, int child, bool local, const elastic_ts_t *ts);

/** Number of local (or remote) traffic selectors of CHILD_SA i; 0 if there is no such CHILD_SA. */
int elastic_ctx_ts_count(const elastic_ctx_t *ctx, int child, bool local);

/** Traffic selector j of one side of CHILD_SA i; FALSE if there is none. */
bool elastic_ctx_get_ts(const elastic_ctx_t *ctx, int child, bool local, int j, elastic_ts_t *ts);

#ifdef __cplusplus
}
#endif

#endif /* ELASTIC_CTX_H_ */
