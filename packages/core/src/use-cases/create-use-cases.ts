import { ChangePassword, ForgotPassword, ResendVerification, ResetPassword, VerifyEmail } from './account.use-cases.js';
import { ListAuditEvents } from './audit.use-cases.js';
import { Authenticate } from './authenticate.use-case.js';
import { CancelBuild, GetBuild, ListBuilds, TriggerBuild } from './build.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import {
  CancelDeployment,
  CreateDeployment,
  GetDeployment,
  ListDeployments,
  RollbackDeployment,
} from './deployment.use-cases.js';
import { GetJob, ListJobs, RecordJobFailure, RetryJob } from './job.use-cases.js';
import { ReadLogs } from './log.use-cases.js';
import { Login } from './login.use-case.js';
import { Logout } from './logout.use-case.js';
import { BeginOAuthSignIn, CompleteOAuthSignIn, ListOAuthAccounts, UnlinkOAuthAccount } from './oauth.use-cases.js';
import { CreateProject, DeleteProject, GetProject, ListProjects, UpdateProject } from './project.use-cases.js';
import { ReconcileJobs } from './reconcile-jobs.use-case.js';
import { ReconcileRuntime, ShipDeploymentLogs } from './reconcile-runtime.use-case.js';
import { RefreshSession } from './refresh-session.use-case.js';
import { Register } from './register.use-case.js';
import { RelayOutbox } from './relay-outbox.use-case.js';
import { RotateSecrets } from './rotate-secrets.use-case.js';
import { RunBuild } from './run-build.use-case.js';
import { RunCleanup } from './run-cleanup.use-case.js';
import { RunDeployment } from './run-deployment.use-case.js';
import { RuntimeGate } from './runtime-gate.js';
import { ScheduleCleanup } from './schedule-cleanup.use-case.js';
import { SendNotification } from './send-notification.use-case.js';
import {
  CreateService,
  DeleteService,
  GetService,
  GetServiceEnv,
  ListServices,
  SetServiceEnv,
  UpdateService,
} from './service.use-cases.js';
import {
  AddTeamMember,
  CreateTeam,
  DeleteTeam,
  GetTeam,
  ListTeams,
  RemoveTeamMember,
  UpdateTeam,
} from './team.use-cases.js';
import { GetTenant, UpdateTenant } from './tenant.use-cases.js';
import { CreateUser, DeleteUser, GetMe, GetUser, ListUsers, UpdateUser } from './user.use-cases.js';

/** Every use case of the core, built once from the ports. */
export function createUseCases(deps: CoreDeps) {
  const shipDeploymentLogs = new ShipDeploymentLogs(deps);
  const runtimeGate = new RuntimeGate();
  return {
    register: new Register(deps),
    login: new Login(deps),
    refreshSession: new RefreshSession(deps),
    logout: new Logout(deps),
    authenticate: new Authenticate(deps),
    verifyEmail: new VerifyEmail(deps),
    resendVerification: new ResendVerification(deps),
    forgotPassword: new ForgotPassword(deps),
    resetPassword: new ResetPassword(deps),
    changePassword: new ChangePassword(deps),
    getMe: new GetMe(deps),
    getTenant: new GetTenant(deps),
    updateTenant: new UpdateTenant(deps),
    listUsers: new ListUsers(deps),
    getUser: new GetUser(deps),
    createUser: new CreateUser(deps),
    updateUser: new UpdateUser(deps),
    deleteUser: new DeleteUser(deps),
    listTeams: new ListTeams(deps),
    getTeam: new GetTeam(deps),
    createTeam: new CreateTeam(deps),
    updateTeam: new UpdateTeam(deps),
    deleteTeam: new DeleteTeam(deps),
    addTeamMember: new AddTeamMember(deps),
    removeTeamMember: new RemoveTeamMember(deps),
    listProjects: new ListProjects(deps),
    getProject: new GetProject(deps),
    createProject: new CreateProject(deps),
    updateProject: new UpdateProject(deps),
    deleteProject: new DeleteProject(deps),
    listServices: new ListServices(deps),
    getService: new GetService(deps),
    createService: new CreateService(deps),
    updateService: new UpdateService(deps),
    deleteService: new DeleteService(deps),
    setServiceEnv: new SetServiceEnv(deps),
    getServiceEnv: new GetServiceEnv(deps),
    triggerBuild: new TriggerBuild(deps),
    listBuilds: new ListBuilds(deps),
    getBuild: new GetBuild(deps),
    cancelBuild: new CancelBuild(deps),
    createDeployment: new CreateDeployment(deps),
    listDeployments: new ListDeployments(deps),
    getDeployment: new GetDeployment(deps),
    rollbackDeployment: new RollbackDeployment(deps),
    cancelDeployment: new CancelDeployment(deps),
    readLogs: new ReadLogs(deps),
    listJobs: new ListJobs(deps),
    getJob: new GetJob(deps),
    retryJob: new RetryJob(deps),
    listAuditEvents: new ListAuditEvents(deps),
    recordJobFailure: new RecordJobFailure(deps),
    reconcileJobs: new ReconcileJobs(deps),
    runBuild: new RunBuild(deps),
    runDeployment: new RunDeployment(deps, shipDeploymentLogs, runtimeGate),
    reconcileRuntime: new ReconcileRuntime(deps, shipDeploymentLogs, runtimeGate),
    shipDeploymentLogs,
    runCleanup: new RunCleanup(deps),
    sendNotification: new SendNotification(deps),
    relayOutbox: new RelayOutbox(deps),
    beginOAuthSignIn: new BeginOAuthSignIn(deps),
    completeOAuthSignIn: new CompleteOAuthSignIn(deps),
    listOAuthAccounts: new ListOAuthAccounts(deps),
    unlinkOAuthAccount: new UnlinkOAuthAccount(deps),
    rotateSecrets: new RotateSecrets(deps),
    scheduleCleanup: new ScheduleCleanup(deps),
  };
}

export type UseCases = ReturnType<typeof createUseCases>;
