import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Alert as _polca_v1_Alert, Alert__Output as _polca_v1_Alert__Output } from './polca/v1/Alert.js';
import type { Basis as _polca_v1_Basis, Basis__Output as _polca_v1_Basis__Output } from './polca/v1/Basis.js';
import type { BasisIncrement as _polca_v1_BasisIncrement, BasisIncrement__Output as _polca_v1_BasisIncrement__Output } from './polca/v1/BasisIncrement.js';
import type { Checkpoint as _polca_v1_Checkpoint, Checkpoint__Output as _polca_v1_Checkpoint__Output } from './polca/v1/Checkpoint.js';
import type { Cluster as _polca_v1_Cluster, Cluster__Output as _polca_v1_Cluster__Output } from './polca/v1/Cluster.js';
import type { ClusterTarget as _polca_v1_ClusterTarget, ClusterTarget__Output as _polca_v1_ClusterTarget__Output } from './polca/v1/ClusterTarget.js';
import type { Clusters as _polca_v1_Clusters, Clusters__Output as _polca_v1_Clusters__Output } from './polca/v1/Clusters.js';
import type { DatapointList as _polca_v1_DatapointList, DatapointList__Output as _polca_v1_DatapointList__Output } from './polca/v1/DatapointList.js';
import type { DerivativeCheck as _polca_v1_DerivativeCheck, DerivativeCheck__Output as _polca_v1_DerivativeCheck__Output } from './polca/v1/DerivativeCheck.js';
import type { Event as _polca_v1_Event, Event__Output as _polca_v1_Event__Output } from './polca/v1/Event.js';
import type { GetRunRequest as _polca_v1_GetRunRequest, GetRunRequest__Output as _polca_v1_GetRunRequest__Output } from './polca/v1/GetRunRequest.js';
import type { GetTrajectoriesRequest as _polca_v1_GetTrajectoriesRequest, GetTrajectoriesRequest__Output as _polca_v1_GetTrajectoriesRequest__Output } from './polca/v1/GetTrajectoriesRequest.js';
import type { KindCount as _polca_v1_KindCount, KindCount__Output as _polca_v1_KindCount__Output } from './polca/v1/KindCount.js';
import type { ListClustersRequest as _polca_v1_ListClustersRequest, ListClustersRequest__Output as _polca_v1_ListClustersRequest__Output } from './polca/v1/ListClustersRequest.js';
import type { ListClustersResponse as _polca_v1_ListClustersResponse, ListClustersResponse__Output as _polca_v1_ListClustersResponse__Output } from './polca/v1/ListClustersResponse.js';
import type { Lost as _polca_v1_Lost, Lost__Output as _polca_v1_Lost__Output } from './polca/v1/Lost.js';
import type { ParamShape as _polca_v1_ParamShape, ParamShape__Output as _polca_v1_ParamShape__Output } from './polca/v1/ParamShape.js';
import type { PolcaClient as _polca_v1_PolcaClient, PolcaDefinition as _polca_v1_PolcaDefinition } from './polca/v1/Polca.js';
import type { PolcaIncrement as _polca_v1_PolcaIncrement, PolcaIncrement__Output as _polca_v1_PolcaIncrement__Output } from './polca/v1/PolcaIncrement.js';
import type { Run as _polca_v1_Run, Run__Output as _polca_v1_Run__Output } from './polca/v1/Run.js';
import type { RunEnd as _polca_v1_RunEnd, RunEnd__Output as _polca_v1_RunEnd__Output } from './polca/v1/RunEnd.js';
import type { RunStart as _polca_v1_RunStart, RunStart__Output as _polca_v1_RunStart__Output } from './polca/v1/RunStart.js';
import type { Step as _polca_v1_Step, Step__Output as _polca_v1_Step__Output } from './polca/v1/Step.js';
import type { SubscribeRequest as _polca_v1_SubscribeRequest, SubscribeRequest__Output as _polca_v1_SubscribeRequest__Output } from './polca/v1/SubscribeRequest.js';
import type { Trajectories as _polca_v1_Trajectories, Trajectories__Output as _polca_v1_Trajectories__Output } from './polca/v1/Trajectories.js';
import type { Trajectory as _polca_v1_Trajectory, Trajectory__Output as _polca_v1_Trajectory__Output } from './polca/v1/Trajectory.js';
import type { Transition as _polca_v1_Transition, Transition__Output as _polca_v1_Transition__Output } from './polca/v1/Transition.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  polca: {
    v1: {
      Alert: MessageTypeDefinition<_polca_v1_Alert, _polca_v1_Alert__Output>
      Basis: MessageTypeDefinition<_polca_v1_Basis, _polca_v1_Basis__Output>
      BasisIncrement: MessageTypeDefinition<_polca_v1_BasisIncrement, _polca_v1_BasisIncrement__Output>
      Checkpoint: MessageTypeDefinition<_polca_v1_Checkpoint, _polca_v1_Checkpoint__Output>
      Cluster: MessageTypeDefinition<_polca_v1_Cluster, _polca_v1_Cluster__Output>
      ClusterTarget: MessageTypeDefinition<_polca_v1_ClusterTarget, _polca_v1_ClusterTarget__Output>
      Clusters: MessageTypeDefinition<_polca_v1_Clusters, _polca_v1_Clusters__Output>
      DatapointList: MessageTypeDefinition<_polca_v1_DatapointList, _polca_v1_DatapointList__Output>
      DerivativeCheck: MessageTypeDefinition<_polca_v1_DerivativeCheck, _polca_v1_DerivativeCheck__Output>
      Event: MessageTypeDefinition<_polca_v1_Event, _polca_v1_Event__Output>
      EventKind: EnumTypeDefinition
      GetRunRequest: MessageTypeDefinition<_polca_v1_GetRunRequest, _polca_v1_GetRunRequest__Output>
      GetTrajectoriesRequest: MessageTypeDefinition<_polca_v1_GetTrajectoriesRequest, _polca_v1_GetTrajectoriesRequest__Output>
      KindCount: MessageTypeDefinition<_polca_v1_KindCount, _polca_v1_KindCount__Output>
      ListClustersRequest: MessageTypeDefinition<_polca_v1_ListClustersRequest, _polca_v1_ListClustersRequest__Output>
      ListClustersResponse: MessageTypeDefinition<_polca_v1_ListClustersResponse, _polca_v1_ListClustersResponse__Output>
      Lost: MessageTypeDefinition<_polca_v1_Lost, _polca_v1_Lost__Output>
      ParamShape: MessageTypeDefinition<_polca_v1_ParamShape, _polca_v1_ParamShape__Output>
      /**
       * Live view of a polca training run.
       */
      Polca: SubtypeConstructor<typeof grpc.Client, _polca_v1_PolcaClient> & { service: _polca_v1_PolcaDefinition }
      PolcaIncrement: MessageTypeDefinition<_polca_v1_PolcaIncrement, _polca_v1_PolcaIncrement__Output>
      Run: MessageTypeDefinition<_polca_v1_Run, _polca_v1_Run__Output>
      RunEnd: MessageTypeDefinition<_polca_v1_RunEnd, _polca_v1_RunEnd__Output>
      RunStart: MessageTypeDefinition<_polca_v1_RunStart, _polca_v1_RunStart__Output>
      StartAt: EnumTypeDefinition
      Step: MessageTypeDefinition<_polca_v1_Step, _polca_v1_Step__Output>
      SubscribeRequest: MessageTypeDefinition<_polca_v1_SubscribeRequest, _polca_v1_SubscribeRequest__Output>
      Trajectories: MessageTypeDefinition<_polca_v1_Trajectories, _polca_v1_Trajectories__Output>
      Trajectory: MessageTypeDefinition<_polca_v1_Trajectory, _polca_v1_Trajectory__Output>
      Transition: MessageTypeDefinition<_polca_v1_Transition, _polca_v1_Transition__Output>
    }
  }
}

