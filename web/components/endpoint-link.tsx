import { Link } from 'wouter';

export function endpointHref(appId: string, endpointId: string): string {
  return `/apps/${encodeURIComponent(appId)}/endpoints/${encodeURIComponent(endpointId)}`;
}

export function appHref(appId: string): string {
  return `/apps/${encodeURIComponent(appId)}`;
}

export function messageHref(appId: string, msgId: string): string {
  return `/apps/${encodeURIComponent(appId)}/messages/${encodeURIComponent(msgId)}`;
}

export function attemptHref(appId: string, msgId: string, attemptId: string): string {
  return `${messageHref(appId, msgId)}/attempts/${encodeURIComponent(attemptId)}`;
}

export function EndpointLink({ appId, endpointId, url }: { appId: string; endpointId: string; url: string }) {
  return (
    <Link href={endpointHref(appId, endpointId)} className="url">
      {url}
    </Link>
  );
}
