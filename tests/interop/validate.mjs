// Backstage's own validators judge entity documents, for tests/interop/test_backstage_validation.py.
//
// Each document goes through what Backstage's catalog runs on `POST /validate-entity` with a `url:` location (its
// router, then DefaultCatalogProcessingOrchestrator), with the installed @backstage/catalog-model and
// @backstage/plugin-scaffolder-common doing all the judging:
//   1. the envelope schema (entityEnvelopeSchemaValidator), checked by the router and again by the orchestrator;
//   2. the location annotations the router adds (`...entity.metadata.annotations` spread after them);
//   3. the entity policies the catalog builds by default, in its order: SchemaValidEntityPolicy,
//      DefaultNamespaceEntityPolicy, NoForeignRootFieldsEntityPolicy, FieldFormatEntityPolicy(makeValidator());
//   4. the entity schema (entitySchemaValidator), then each processor's validateEntityKind: the
//      BuiltinKindsEntityProcessor's kind validators and the scaffolder module's Template v1beta3 validator, where a
//      validator may throw (a recognized kind with a bad spec) and none recognizing the entity refuses it;
//   5. the refs those two processors parse to make relations in postProcessEntity (parseEntityRef with each field's
//      default kind, none for dependsOn/dependencyOf), which throw on a malformed ref.
// Not modelled: reading a Location's targets and the placeholder ($text, $json) and CODEOWNERS pre-processors,
// which fetch from the network (the location, https://example.com, has no SCM integration).
//
// stdin: {documents: [...]}; stdout: {verdicts: [{ok, message}]}, in the documents' order.

import { readFileSync } from 'node:fs';
import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  entityEnvelopeSchemaValidator,
  entitySchemaValidator,
  getCompoundEntityRef,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  makeValidator,
  parseEntityRef,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';
import { templateEntityV1beta3Validator } from '@backstage/plugin-scaffolder-common';

const LOCATION = 'url:https://example.com/catalog-info.yaml';

const policy = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(makeValidator()),
]);
const validateEnvelope = entityEnvelopeSchemaValidator();
const validateEntity = entitySchemaValidator();

// The processors that validate kinds, in the catalog's order, with the spec fields each reads as refs for its
// relations: [field, default kind] (no default kind: the ref must name one).
const processors = [
  {
    name: 'BuiltinKindsEntityProcessor',
    validators: [
      apiEntityV1alpha1Validator,
      componentEntityV1alpha1Validator,
      resourceEntityV1alpha1Validator,
      groupEntityV1alpha1Validator,
      locationEntityV1alpha1Validator,
      userEntityV1alpha1Validator,
      systemEntityV1alpha1Validator,
      domainEntityV1alpha1Validator,
    ],
    refs: entity =>
      ({
        Component: [
          ['owner', 'Group'],
          ['subcomponentOf', 'Component'],
          ['providesApis', 'API'],
          ['consumesApis', 'API'],
          ['dependsOn'],
          ['dependencyOf'],
          ['system', 'System'],
        ],
        API: [
          ['owner', 'Group'],
          ['system', 'System'],
        ],
        Resource: [
          ['owner', 'Group'],
          ['dependsOn'],
          ['dependencyOf'],
          ['system', 'System'],
        ],
        User: [['memberOf', 'Group']],
        Group: [
          ['parent', 'Group'],
          ['children', 'Group'],
          ['members', 'User'],
        ],
        System: [
          ['owner', 'Group'],
          ['domain', 'Domain'],
        ],
        Domain: [
          ['owner', 'Group'],
          ['subdomainOf', 'Domain'],
        ],
      })[entity.kind] ?? [],
  },
  {
    name: 'ScaffolderEntitiesProcessor',
    validators: [templateEntityV1beta3Validator],
    refs: entity =>
      entity.apiVersion === 'scaffolder.backstage.io/v1beta3' && entity.kind === 'Template'
        ? [['owner', 'Group']]
        : [],
  },
];

async function judge(document) {
  let entity = validateEnvelope(document);
  entity = {
    ...entity,
    metadata: {
      ...entity.metadata,
      annotations: {
        'backstage.io/managed-by-location': LOCATION,
        'backstage.io/managed-by-origin-location': LOCATION,
        ...entity.metadata.annotations,
      },
    },
  };
  validateEnvelope(entity);
  entity = await policy.enforce(entity);
  validateEntity(entity);
  let recognized = false;
  for (const processor of processors) {
    for (const validator of processor.validators) {
      if (await validator.check(entity)) {
        recognized = true;
        break;
      }
    }
  }
  if (!recognized) {
    throw new Error('No processor recognized the entity, possibly caused by a foreign kind or apiVersion');
  }
  const namespace = getCompoundEntityRef(entity).namespace;
  for (const processor of processors) {
    for (const [field, defaultKind] of processor.refs(entity)) {
      const targets = entity.spec[field];
      if (targets) {
        for (const target of [targets].flat()) {
          parseEntityRef(target, { defaultKind, defaultNamespace: namespace });
        }
      }
    }
  }
}

const { documents } = JSON.parse(readFileSync(0, 'utf8'));
const verdicts = [];
for (const document of documents) {
  try {
    await judge(document);
    verdicts.push({ ok: true, message: '' });
  } catch (error) {
    verdicts.push({ ok: false, message: String(error?.message ?? error) });
  }
}
process.stdout.write(JSON.stringify({ verdicts }));
