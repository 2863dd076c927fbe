// Forward values of every conformance case against the float64 reference, on every test device.

import { it } from 'vitest';
import { describeEachDevice } from '../device-suite.js';
import { ALL_CASES } from './cases/all-cases.js';
import { caseTitle } from './case.js';
import { checkForward } from './check.js';

describeEachDevice((device) => {
  for (const c of ALL_CASES) {
    it(caseTitle(c), () => checkForward(c, device));
  }
});
