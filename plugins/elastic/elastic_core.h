/*
 * The C interface between the plugin's strongSwan layer (C) and its logic (C++).
 * Only plain C types cross it; strongSwan objects never reach C++.
 */
#ifndef ELASTIC_CORE_H_
#define ELASTIC_CORE_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of elastic-ipsec, e.g. "0.1.0". */
const char *elastic_core_version(void);

/** Context schema version the plugin reads and writes. */
int elastic_core_schema_version(void);

/** A log sink of the C side: level 1 (operations) or 2 (details), one message without newline. */
typedef void (*elastic_log_fn)(int level, const char *msg);

/**
 * Sends what the protobuf library logs (e.g. a malformed string field) to `log` instead of
 * stderr, which is not charon's log; NULL puts back the handler that was there before.
 * protobuf's handler is process-wide, so this is for the plugin's start and stop only.
 */
void elastic_core_set_log(elastic_log_fn log);

/**
 * The project's one strict number parser (common/elastic/parse_number.h) for the C side:
 * decimal digits only, in min..max. NULL and *out set, or a malloc'ed error naming `what`.
 */
char *elastic_parse_u64(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out);

/**
 * safety * (threshold + max_pps * (latency_ms + detection_ms) / 1000), at least floor, into
 * *margin; a malloc'ed error text if it overflows (docs/ha.md derives the rule).
 */
char *elastic_margin_rule(uint64_t threshold, uint64_t max_pps, uint64_t latency_ms,
						  uint64_t detection_ms, uint64_t safety, uint64_t floor,
						  uint64_t *margin);

/**
 * Where a setting is written: "FILE:LINE" (allocated) of `key` (e.g.
 * "charon.plugins.elastic.margin") in strongswan.conf file `conf` and the files it includes, read
 * with the daemons' reader of the same grammar; NULL if conf is NULL, unreadable or lacks the key.
 */
char *elastic_settings_where(const char *conf, const char *key);

#ifdef __cplusplus
}
#endif

#endif /* ELASTIC_CORE_H_ */
