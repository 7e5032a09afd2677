// The shapes of the widget protocol. They are declared once, in Python
// (src/kling_studio/studio/_protocol.py), and generated into protocol.gen.ts; this file only
// re-exports them under the names the views import. Never declare a protocol shape here.

export type {
  Axes,
  Backend,
  BackendError,
  CardSettings,
  Comparison,
  ComparePlan,
  ErrorInfo,
  Form,
  HistoryPage,
  HistoryRow,
  ParamValue,
  PictureInfo,
  Pictures,
  PlanVariant,
  RecordStatus,
  Replies,
  Request,
  RequestKind,
  Requests,
  Rules,
  Segment,
  Slot,
  TaskCard,
  TaskStatus,
  Traits,
  Variant,
  VideoReply,
  VideoState,
} from "./protocol.gen";
