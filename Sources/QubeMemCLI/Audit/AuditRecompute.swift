import Foundation
import QubeMem
import QubeMemSlurm
import QubeMemAudit
import QubeMemSystem
import ArgumentParser

/// Prices a job comment with the current model, for jobs the plugin left no record on.
enum AuditRecompute {
    static func closure(policy: RequestPolicy) -> Recompute {
        { comment in
            switch QubeComment.parse(comment) {
            case nil:
                return nil
            case let .failure(error)?:
                return .failure(RecomputeError("\(error)"))
            case let .success(spec)?:
                switch Predictor.predict(spec, policy: policy) {
                case let .success(p):
                    return .success(RecomputedPrediction(model: p.model.rawValue, path: p.path.rawValue,
                                                         totalBytes: p.totalBytes))
                case let .failure(error):
                    return .failure(RecomputeError("\(error)"))
                }
            }
        }
    }
}
