/*
 * The C interface between the plugin's strongSwan layer (C) and its logic (C++).
 * Only plain C types cross it; strongSwan objects never reach C++.
 */
#ifndef ELASTIC_CORE_H_
#define ELASTIC_CORE_H_

#ifdef __cplusplus
extern "C" {
#endif

/** Version of elastic-ipsec, e.g. "0.1.0". */
const char *elastic_core_version(void);

/** Context schema version the plugin reads and writes. */
int elastic_core_schema_version(void);

#ifdef __cplusplus
}
#endif

#endif /* ELASTIC_CORE_H_ */
