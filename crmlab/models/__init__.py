"""Probability models of customer bases, fitted by maximum likelihood."""

from crmlab.models.base import ConvergenceWarning as ConvergenceWarning
from crmlab.models.base import Covariates as Covariates
from crmlab.models.base import IdentificationError as IdentificationError
from crmlab.models.base import Model as Model
from crmlab.models.bdw import BetaDiscreteWeibull as BetaDiscreteWeibull
from crmlab.models.bdw import BetaDiscreteWeibullResult as BetaDiscreteWeibullResult
from crmlab.models.bgbb import BGBB as BGBB
from crmlab.models.bgbb import BGBBResult as BGBBResult
from crmlab.models.cnbd import BGCNBD as BGCNBD
from crmlab.models.cnbd import MBGCNBD as MBGCNBD
from crmlab.models.cnbd import BGCNBDResult as BGCNBDResult
from crmlab.models.cnbd import MBGCNBDResult as MBGCNBDResult
from crmlab.models.gammagamma import GammaGamma as GammaGamma
from crmlab.models.gammagamma import GammaGammaResult as GammaGammaResult
from crmlab.models.gammagamma import InfiniteMeanWarning as InfiniteMeanWarning
from crmlab.models.ggompertz import GGompertzNBD as GGompertzNBD
from crmlab.models.ggompertz import GGompertzNBDResult as GGompertzNBDResult
from crmlab.models.nbd import BGNBD as BGNBD
from crmlab.models.nbd import MBGNBD as MBGNBD
from crmlab.models.nbd import BGNBDResult as BGNBDResult
from crmlab.models.nbd import MBGNBDResult as MBGNBDResult
from crmlab.models.nbd import ParetoNBD as ParetoNBD
from crmlab.models.nbd import ParetoNBDResult as ParetoNBDResult
from crmlab.models.sbg import ShiftedBetaGeometric as ShiftedBetaGeometric
from crmlab.models.sbg import ShiftedBetaGeometricResult as ShiftedBetaGeometricResult
