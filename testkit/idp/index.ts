// testkit/idp/index.ts: the mock identity provider's public surface, for gateway tests and bench scripts.
export { startIdp, JWKS_PATH, OIDC_PATH, type Idp, type IdpOptions, type DownMode } from './server.js'
export { IDP_ALGS, parseAlg, type IdpAlg, type KeyInfo } from './keys.js'
export { offsetSeconds, type SignOptions, type TimeOffset } from './sign.js'
export {
  algNone, attackerPublicJwk, attackTokens, badSignature, embeddedJwk, expired, hmacSecretFor, hs256WithPublicKey, malformedTokens,
  notYetValid, unknownKid, wrongAudience, wrongIssuer, type AttackBase, type AttackToken,
} from './forge.js'
export {
  readLoadTokens, signLoadTokens, writeLoadTokens, type LoadToken, type LoadTokenFile, type LoadTokenOptions,
} from './load-tokens.js'
