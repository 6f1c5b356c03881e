"""Probability models of customer bases, fitted by maximum likelihood."""

from crmlab.models.bgbb import BGBB as BGBB
from crmlab.models.bgbb import BGBBResult as BGBBResult
from crmlab.models.gammagamma import GammaGamma as GammaGamma
from crmlab.models.gammagamma import GammaGammaResult as GammaGammaResult
from crmlab.models.gammagamma import InfiniteMeanWarning as InfiniteMeanWarning
from crmlab.models.sbg import ShiftedBetaGeometric as ShiftedBetaGeometric
from crmlab.models.sbg import ShiftedBetaGeometricResult as ShiftedBetaGeometricResult
