import type { StatsOverviewOut } from '../../api/types.ts';

export type StatsTotalsView = StatsOverviewOut['lastDay'];
export type { EndpointAlertOut } from '../../api/types.ts';
