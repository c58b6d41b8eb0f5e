import { decideCodeRollback, type RouterCodeState } from '../../lambda/core/code-rollback';

const state = (overrides: Partial<RouterCodeState> = {}): RouterCodeState => ({
  aliasName: 'live',
  aliasVersion: '7',
  additionalWeights: {},
  revisionId: 'r1',
  publishedVersions: ['$LATEST', '1', '5', '6', '7', '8'],
  deploymentsInProgress: [],
  ...overrides,
});
const clear = { active: false };

describe('decideCodeRollback', () => {
  it('moves to the highest published version below the serving one, ignoring $LATEST and newer versions', () => {
    expect(decideCodeRollback(state(), clear)).toEqual({ kind: 'move', move: { from: '7', to: '6' }, revisionId: 'r1' });
    expect(decideCodeRollback(state({ publishedVersions: ['$LATEST', '10', '9', '2'] , aliasVersion: '10' }), clear)).toMatchObject({ move: { from: '10', to: '9' } });
  });

  it('recognises a repeat from the active latch: it recorded the move and the alias is on its target', () => {
    expect(decideCodeRollback(state({ aliasVersion: '6' }), { active: true, code: { from: '7', to: '6' } })).toEqual({ kind: 'already-there', move: { from: '7', to: '6' } });
  });

  it('treats a cleared latch\'s record as history: the serving version is rolled back afresh', () => {
    expect(decideCodeRollback(state({ aliasVersion: '6' }), { active: false, code: { from: '7', to: '6' } })).toMatchObject({ kind: 'move', move: { from: '6', to: '5' } });
  });

  it('after a deploy over an active level-3 latch, goes back to the version it recorded', () => {
    expect(decideCodeRollback(state({ aliasVersion: '8' }), { active: true, code: { from: '7', to: '6' } })).toMatchObject({ move: { from: '8', to: '6' } });
    // A recorded target that is no longer published falls back to the highest older version.
    expect(decideCodeRollback(state({ aliasVersion: '8', publishedVersions: ['5', '7', '8'] }), { active: true, code: { from: '7', to: '6' } })).toMatchObject({ move: { from: '8', to: '7' } });
  });

  it.each([
    ['no earlier version', state({ aliasVersion: '1' }), /no published version of the router is older than version 1/],
    ['the alias on $LATEST', state({ aliasVersion: '$LATEST' }), /serves \$LATEST, not a published version/],
    ['a deployment in progress', state({ deploymentsInProgress: ['d-1', 'd-2'] }), /\(d-1, d-2\); stop it and let CodeDeploy put the alias back: aws deploy stop-deployment --deployment-id d-1 --auto-rollback-enabled/],
    ['a weighted alias', state({ additionalWeights: { '8': 0.1 } }), /sends traffic to version 7 and to version 8 outside any CodeDeploy deployment/],
  ])('refuses with %s', (_name, s, message) => {
    const decision = decideCodeRollback(s, clear);
    expect(decision.kind).toBe('refuse');
    expect(decision.kind === 'refuse' && decision.message).toMatch(message);
  });

  it('refuses a deployment in progress even when the latch says the rollback is done', () => {
    expect(decideCodeRollback(state({ aliasVersion: '6', deploymentsInProgress: ['d-9'] }), { active: true, code: { from: '7', to: '6' } }).kind).toBe('refuse');
  });
});
