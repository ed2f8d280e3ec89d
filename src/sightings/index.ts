/** Secret sightings: reports from scan agents and the gate's own scans; revocation of leaked pubgate credentials. */
export { SightingService } from './sightings.ts';
export type { SightingInput, ReportOutcome } from './sightings.ts';
