/**
 * `ChangeGuard` (type `pulumi-nodejs:dynamic/cluster:ChangeGuard`): the cluster's layout as of the last
 * `pulumi up`, kept in the state, so that a change can be judged against it before anything runs. Its
 * `check` sees the old layout and the new one: it refuses an unsafe change (infra/changes.ts) with a
 * failure naming the config key and the safe sequence, which fails `pulumi preview` and `pulumi up` before
 * any host step starts (every host step depends on the guard), and it adds `notices` for a safe change
 * that restarts services, which the program shows as warnings.
 */
import * as pulumi from "@pulumi/pulumi";
import { changeNotices, changeProblems, type ClusterLayout } from "./changes";

/** The guard's inputs and state: the layout, and what the change from the last one will do. */
export interface ChangeGuardState extends ClusterLayout {
  notices: string[];
}

/** A layout recorded by an earlier `up`; undefined on the first one (no old inputs). */
function recordedLayout(olds: Partial<ChangeGuardState>): ClusterLayout | undefined {
  return Array.isArray(olds.masters) ? (olds as ClusterLayout) : undefined;
}

/** Judges a change in `check`; create and update only keep the layout. */
export class ChangeGuardProvider implements pulumi.dynamic.ResourceProvider<
  ChangeGuardState,
  ChangeGuardState
> {
  check(
    olds: Partial<ChangeGuardState>,
    news: ChangeGuardState,
  ): Promise<pulumi.dynamic.CheckResult<ChangeGuardState>> {
    const old = recordedLayout(olds);
    const failures = changeProblems(old, news);
    if (failures.length > 0) return Promise.resolve({ failures });
    return Promise.resolve({ inputs: { ...news, notices: changeNotices(old, news) } });
  }

  create(inputs: ChangeGuardState): Promise<pulumi.dynamic.CreateResult<ChangeGuardState>> {
    return Promise.resolve({ id: "layout", outs: inputs });
  }

  update(
    _id: string,
    _olds: ChangeGuardState,
    news: ChangeGuardState,
  ): Promise<pulumi.dynamic.UpdateResult<ChangeGuardState>> {
    return Promise.resolve({ outs: news });
  }
}

export const changeGuardProvider = new ChangeGuardProvider();

export class ChangeGuard extends pulumi.dynamic.Resource {
  /** What the change from the last `up` will do to running services. */
  declare readonly notices: pulumi.Output<string[]>;

  constructor(name: string, layout: ClusterLayout, opts?: pulumi.CustomResourceOptions) {
    super(changeGuardProvider, name, { ...layout, notices: undefined }, opts, "cluster", "ChangeGuard");
  }
}
