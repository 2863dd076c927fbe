// backward() of every differentiable conformance case against central finite
// differences of the float64 reference, on every test device.

import { it } from 'vitest';
import { describeEachDevice } from '../device-suite.js';
import { ALL_CASES } from './cases/all-cases.js';
import { caseTitle } from './case.js';
import { checkGradient } from './check.js';

describeEachDevice((device) => {
  for (const c of ALL_CASES.filter((c) => c.gradient)) {
    it(caseTitle(c), () => checkGradient(c, device));
  }
});
