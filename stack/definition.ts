import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bindPlaceholders, functionPlaceholder, placeholdersOf } from '../shared/domain/asl-placeholders';
import { boundDefinition } from '../shared/domain/horizon';
import { ASL_FILE } from './constants';
import { functionKey, lambdaLogicalId, type Cfn, type StackContext } from './context';

/**
 * The state machine definition: the ASL file with every `${Name}` placeholder (the grammar shared
 * with the local runner, shared/domain/asl-placeholders.ts) bound to what it stands for in this
 * stack, and its Glue Task and state machine timeouts bounded from the datasets' stage timeouts
 * (shared/domain/horizon.ts, as the local runner bounds it). A binding is a list of parts (strings
 * and Ref / Fn::GetAtt); a string made of one intrinsic becomes that intrinsic, anything else an
 * Fn::Join. serverless-step-functions then lifts each intrinsic into its DefinitionString's Fn::Sub.
 */

/**
 * The ASL names its service integrations as Step Functions' documentation writes them
 * (`arn:aws:states:::glue:startJobRun.sync`), which is the `aws` partition's ARN: in aws-cn or
 * aws-us-gov the same Task needs `arn:aws-cn:` / `arn:aws-us-gov:`. Every ARN string of the
 * definition gets serverless-step-functions' pseudo parameter `#{AWS::Partition}`, which it turns
 * into `${AWS::Partition}` of the DefinitionString's Fn::Sub. (The local runner reads the file as written.)
 */
function partitionAware<T>(node: T): T {
  if (typeof node === 'string') return node.replace(/^arn:aws:/, 'arn:#{AWS::Partition}:') as T;
  if (Array.isArray(node)) return node.map(partitionAware) as T;
  if (node && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, partitionAware(v)])) as T;
  return node;
}

export interface StateMachineDefinition {
  /** The bound definition (serverless.yml `stepFunctions...definition`). */
  definition: Cfn;
  /** The ASL as written (the alarms read its Retry). */
  asl: Cfn;
  /** The ASL text as written (IAM reads which integrations it uses). */
  aslText: string;
  /** Every placeholder the ASL uses, in order of first appearance. */
  placeholders: string[];
  /** Function folders the state machine invokes. */
  invokedFunctions: string[];
}

/** @param plansLocation the compiled plans' folder, as Fn::Join parts (`${PlansLocation}`) */
export function stateMachineDefinition(ctx: StackContext, plansLocation: Cfn[]): StateMachineDefinition {
  const aslPath = join(ctx.params.root, ASL_FILE);
  if (!existsSync(aslPath)) throw new Error(`${ASL_FILE} not found: the stack deploys that state machine`);
  const aslText = readFileSync(aslPath, 'utf8');
  const asl: Cfn = JSON.parse(aslText);
  const artifacts = { Ref: 'ArtifactsBucket' };
  const bindings: Record<string, unknown[]> = {
    LakeBucket: [ctx.lakeBucket],
    ArtifactsBucket: [artifacts],
    ArtifactsLocation: ['s3://', artifacts, '/'],
    PlansLocation: plansLocation,
    AlertTopicArn: [{ Ref: 'AlertTopic' }],
    LedgerTable: [{ Ref: 'LedgerTable' }],
    Stage: [ctx.stage],
  };
  for (const folder of ctx.functionFolders) {
    bindings[functionPlaceholder(folder)] = [{ 'Fn::GetAtt': [lambdaLogicalId(functionKey(folder)), 'Arn'] }];
  }
  const bind = (name: string, where: string): unknown[] => {
    const parts = bindings[name];
    if (!parts) {
      throw new Error(
        `${ASL_FILE}: ${where}: unknown placeholder \${${name}} (the stack binds: ${Object.keys(bindings).join(', ')})`,
      );
    }
    return parts;
  };
  const aslJobNames = [...new Set([...aslText.matchAll(/"JobName"\s*:\s*"([^"$]+)"/g)].map((m) => m[1]))];
  const placeholders = placeholdersOf(aslText);
  const bound = bindPlaceholders(asl, bind, (parts) => ({ 'Fn::Join': ['', parts] }), '$', ASL_FILE);
  const definition = partitionAware(boundDefinition(bound as object, ctx.datasets));
  if (aslJobNames.length > 0) {
    throw new Error(
      `${ASL_FILE}: JobName "${aslJobNames[0]}" is written out; take it from the run plan ("JobName.$"): deployed job names carry the stage`,
    );
  }
  return {
    definition,
    asl,
    aslText,
    placeholders,
    invokedFunctions: ctx.functionFolders.filter((f) => placeholders.includes(functionPlaceholder(f))),
  };
}
