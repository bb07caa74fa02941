/*
 * A VPN context (proto/elastic.proto, VpnContext) seen from C: an opaque handle whose fields are
 * read and written by path, e.g. "ike_sa.child_sas[0].keys.encryption_i". This keeps strongSwan's
 * C layer free of C++ and protobuf; the paths are checked against the schema at run time and a
 * wrong path is logged, never silently ignored.
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

/** A new, empty context. */
elastic_ctx_t *elastic_ctx_create(void);

/** A copy of a context. */
elastic_ctx_t *elastic_ctx_clone(const elastic_ctx_t *ctx);

/** Destroys a context, wiping its key material first. NULL is fine. */
void elastic_ctx_destroy(elastic_ctx_t *ctx);

/** Sets an integer, enum or bool field. FALSE if the path is not a scalar field. */
bool elastic_ctx_set_u64(elastic_ctx_t *ctx, const char *path, uint64_t value);

/** Sets a bytes or string field. FALSE if the path is not one. */
bool elastic_ctx_set_bytes(elastic_ctx_t *ctx, const char *path, const void *data, size_t len);

/** Appends to a repeated bytes field (e.g. "ike_sa.remote_virtual_ips"). */
bool elastic_ctx_add_bytes(elastic_ctx_t *ctx, const char *path, const void *data, size_t len);

/** Appends an element to a repeated message field; returns its index or -1. */
int elastic_ctx_add(elastic_ctx_t *ctx, const char *path);

/** Reads an integer, enum or bool field; 0 if unset or not a scalar. */
uint64_t elastic_ctx_get_u64(const elastic_ctx_t *ctx, const char *path);

/**
 * Reads a bytes or string field (also an element of a repeated bytes field: "path[i]").
 * The pointer stays valid until the context changes. FALSE if unset/empty or not bytes.
 */
bool elastic_ctx_get_bytes(const elastic_ctx_t *ctx, const char *path, const void **data, size_t *len);

/** Number of elements of a repeated field; 0 if none or not repeated. */
int elastic_ctx_count(const elastic_ctx_t *ctx, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* ELASTIC_CTX_H_ */
