/**
 * The API's shapes, taken from the very TypeBox schemas that validate requests and produce the
 * OpenAPI document (src/api/schemas.ts, src/api/stats-schemas.ts). Type-only imports: nothing of the
 * server reaches the bundle, and a schema change that breaks a page breaks `npm run typecheck`.
 */
import type { Static } from 'typebox';
import type * as S from '../../src/api/schemas.ts';
import type * as Stats from '../../src/api/stats-schemas.ts';

export type ApplicationOut = Static<typeof S.ApplicationOut>;
export type ApplicationIn = Static<typeof S.ApplicationIn>;
export type EndpointOut = Static<typeof S.EndpointOut>;
export type EndpointIn = Static<typeof S.EndpointIn>;
export type EndpointSecretOut = Static<typeof S.EndpointSecretOut>;
export type EndpointHeadersOut = Static<typeof S.EndpointHeadersOut>;
export type EventTypeOut = Static<typeof S.EventTypeOut>;
export type EventTypeIn = Static<typeof S.EventTypeIn>;
export type MessageOut = Static<typeof S.MessageOut>;
export type MessageEndpointOut = Static<typeof S.MessageEndpointOut>;
export type MessageAttemptOut = Static<typeof S.MessageAttemptOut>;
export type EndpointMessageOut = Static<typeof S.EndpointMessageOut>;
export type StatsOverviewOut = Static<typeof Stats.StatsOverviewOut>;
export type StatsSeriesOut = Static<typeof Stats.StatsSeriesOut>;
export type StatsPointOut = Static<typeof Stats.StatsPointOut>;
export type AppEndpointStatsOut = Static<typeof Stats.AppEndpointStatsOut>;
export type EndpointHealthOut = Static<typeof Stats.EndpointHealthOut>;
export type EndpointAlertOut = Static<typeof Stats.EndpointAlertOut>;
export type AttemptRequestOut = Static<typeof Stats.AttemptRequestOut>;

export interface ListResponse<T> {
  data: T[];
  iterator: string | null;
  prevIterator?: string | null;
  done: boolean;
}
