/**
 * AlterUserScramCredentials (key 51), v0.
 * Upsertions carry the salt, the client-computed salted password and the iteration count;
 * the broker keeps only StoredKey/ServerKey derived from it. Validation follows Kafka's
 * controller: a user may appear once per request (else DUPLICATE_RESOURCE), the name must
 * be non-empty and iterations within 4096..16384 (UNACCEPTABLE_CREDENTIAL), the mechanism
 * known (UNSUPPORTED_SASL_MECHANISM), a deleted credential must exist (RESOURCE_NOT_FOUND).
 * The valid changes are applied together in one file write; one result per user.
 * With the authorizer on, ALTER on the cluster is needed (else CLUSTER_AUTHORIZATION_FAILED
 * for every user).
 * Difference from Kafka: an empty salt or salted password is UNACCEPTABLE_CREDENTIAL.
 */
import {
  AlterUserScramCredentialsApi,
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  AlterUserScramCredentialsResponseResults,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { ErrorCode } from '../protocol/errors';
import {
  ScramCredential,
  ScramMechanism,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  scramCredentialFromSaltedPassword,
  scramMechanismFromType,
} from '../security/scram-credentials';
import { AclOperation } from '../security/acl/acl-types';

interface Failure {
  code: number;
  message: string;
}

const TWICE: Failure = { code: ErrorCode.DUPLICATE_RESOURCE, message: 'A user credential cannot be altered twice in the same request' };

function checkNameAndMechanism(name: string, type: number): Failure | ScramMechanism {
  if (name === '') return { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Username must not be empty' };
  const mechanism = scramMechanismFromType(type);
  if (!mechanism) return { code: ErrorCode.UNSUPPORTED_SASL_MECHANISM, message: 'Unknown SCRAM mechanism' };
  return mechanism;
}

export const alterUserScramCredentialsHandler: Handler<
  AlterUserScramCredentialsRequest,
  Encodable<AlterUserScramCredentialsResponse>
> = {
  apiKey: AlterUserScramCredentialsApi.key,
  minVersion: AlterUserScramCredentialsApi.minVersion,
  maxVersion: AlterUserScramCredentialsApi.maxVersion,
  handle(ctx, req) {
    if (ctx.cluster.acls.enabled && !ctx.cluster.acls.authorizeCluster(ctx.connection, AclOperation.ALTER)) {
      const users = new Set([...req.deletions.map((d) => d.name), ...req.upsertions.map((u) => u.name)]);
      return { throttleTimeMs: 0, results: [...users].map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null })) };
    }
    const store = ctx.cluster.security.scram;
    const failures = new Map<string, Failure>();
    const deletions = new Map<string, ScramMechanism>();
    const upsertions = new Map<string, { mechanism: ScramMechanism; credential: ScramCredential }>();

    for (const d of req.deletions) {
      if (failures.has(d.name)) continue;
      if (deletions.delete(d.name)) {
        failures.set(d.name, TWICE);
        continue;
      }
      const m = checkNameAndMechanism(d.name, d.mechanism);
      if (typeof m !== 'string') failures.set(d.name, m);
      else if (!store.get(d.name, m)) {
        failures.set(d.name, { code: ErrorCode.RESOURCE_NOT_FOUND, message: 'Attempt to delete a user credential that does not exist' });
      } else deletions.set(d.name, m);
    }

    for (const u of req.upsertions) {
      if (failures.has(u.name)) continue;
      if (deletions.delete(u.name) || upsertions.delete(u.name)) {
        failures.set(u.name, TWICE);
        continue;
      }
      const m = checkNameAndMechanism(u.name, u.mechanism);
      if (typeof m !== 'string') {
        failures.set(u.name, m);
      } else if (u.iterations < SCRAM_MIN_ITERATIONS) {
        failures.set(u.name, { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Too few iterations' });
      } else if (u.iterations > SCRAM_MAX_ITERATIONS) {
        failures.set(u.name, { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Too many iterations' });
      } else if (u.salt.length === 0 || u.saltedPassword.length === 0) {
        failures.set(u.name, { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: 'Salt and salted password must not be empty' });
      } else {
        upsertions.set(u.name, { mechanism: m, credential: scramCredentialFromSaltedPassword(m, u.saltedPassword, u.salt, u.iterations) });
      }
    }

    store.apply(
      [...deletions].map(([user, mechanism]) => ({ user, mechanism })),
      [...upsertions].map(([user, v]) => ({ user, mechanism: v.mechanism, credential: v.credential })),
    );

    const results: Encodable<AlterUserScramCredentialsResponseResults>[] = [];
    for (const user of deletions.keys()) results.push({ user, errorCode: ErrorCode.NONE, errorMessage: null });
    for (const user of upsertions.keys()) results.push({ user, errorCode: ErrorCode.NONE, errorMessage: null });
    for (const [user, f] of failures) results.push({ user, errorCode: f.code, errorMessage: f.message });
    return { throttleTimeMs: 0, results };
  },
};
