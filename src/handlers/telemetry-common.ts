/** What client telemetry subscriptions match a client on, from its request and connection. */
import type { RequestContext } from '../server/handler-registry';
import type { ClientIdentity } from '../telemetry/client-telemetry';

export function telemetryIdentity(ctx: RequestContext): Omit<ClientIdentity, 'client_instance_id'> {
  const remote = ctx.connection.remoteAddress;
  const colon = remote.lastIndexOf(':');
  return {
    client_id: ctx.header.clientId ?? '',
    client_software_name: ctx.connection.clientSoftware?.name ?? '',
    client_software_version: ctx.connection.clientSoftware?.version ?? '',
    client_source_address: colon > 0 ? remote.slice(0, colon) : remote,
    client_source_port: colon > 0 ? remote.slice(colon + 1) : '',
  };
}
