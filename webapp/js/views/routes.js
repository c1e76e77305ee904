// Screen name (first part of the hash) to view module.
import * as caseDetail from './case-detail.js';
import * as caseForm from './case-form.js';
import * as cases from './cases.js';
import * as checkin from './checkin.js';
import * as home from './home.js';
import * as lock from './lock.js';
import * as login from './login.js';
import * as outbox from './outbox.js';
import * as pin from './pin.js';
import * as route from './route.js';
import * as settings from './settings.js';

export const ROUTES = {
  login,
  lock,
  pin,
  home,
  cases,
  'new-case': caseForm,
  case: caseDetail,
  route,
  checkin,
  outbox,
  settings,
};
