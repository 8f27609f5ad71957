"""SimpleRNN, LSTM, GRU, Bidirectional and TimeDistributed against Keras 3 and torch.nn.

Reference values are Keras 3.15 (torch backend), made by /work/scratch/rnn/make_refs.py: each
Keras layer gets the weights of `keras_weights` (a formula, so only outputs are pasted) and runs
on `X`; outputs are stored flattened, to 7 significant digits.
"""

import json

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.core import Dense, Input
from lamina.layers.recurrent import GRU, LSTM, SimpleRNN
from lamina.layers.recurrent_wrappers import Bidirectional, TimeDistributed
from lamina.testing import check_layer

X = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
MASK = np.array([[True, True, True, False], [False, True, False, True]])


def keras_weights(shapes):
    return [
        (0.5 * np.sin(0.7 * np.arange(int(np.prod(s))) + 1.3 * i)).astype("float32").reshape(s)
        for i, s in enumerate(shapes)
    ]


# case -> (layer factory, call options), as in make_refs.py
CASES = {
    "simple_rnn": (lambda: SimpleRNN(5, return_sequences=True, return_state=True), {}),
    "lstm": (lambda: LSTM(5, return_sequences=True, return_state=True), {}),
    "gru": (lambda: GRU(5, return_sequences=True, return_state=True), {}),
    "gru_reset_before": (
        lambda: GRU(5, reset_after=False, return_sequences=True, return_state=True),
        {},
    ),
    "lstm_backwards": (lambda: LSTM(5, go_backwards=True, return_sequences=True), {}),
    "gru_backwards_last": (lambda: GRU(5, go_backwards=True), {}),
    "simple_rnn_relu": (lambda: SimpleRNN(5, activation="relu", return_sequences=True), {}),
    "lstm_relu": (
        lambda: LSTM(5, activation="relu", return_sequences=True, return_state=True),
        {},
    ),
    "gru_tanh_gates": (lambda: GRU(5, recurrent_activation="tanh", return_sequences=True), {}),
    "lstm_mask": (lambda: LSTM(5, return_sequences=True, return_state=True), {"mask": True}),
    "gru_mask_last": (lambda: GRU(5, return_state=True), {"mask": True}),
    "simple_rnn_mask_backwards": (
        lambda: SimpleRNN(5, go_backwards=True, return_sequences=True, return_state=True),
        {"mask": True},
    ),
    "lstm_mask_initial_state": (
        lambda: LSTM(5, return_sequences=True, return_state=True),
        {"mask": True, "initial_state": 2},
    ),
    "gru_initial_state": (lambda: GRU(5, return_sequences=True), {"initial_state": 1}),
    "bidirectional_gru_state": (lambda: Bidirectional(GRU(5, return_state=True)), {}),
    "bidirectional_gru_mask": (
        lambda: Bidirectional(GRU(5, return_sequences=True)),
        {"mask": True},
    ),
    "time_distributed_dense": (lambda: TimeDistributed(Dense(4)), {}),
}
for _mode in ("concat", "sum", "mul", "ave", None):
    CASES[f"bidirectional_{_mode}"] = (
        lambda mode=_mode: Bidirectional(LSTM(5, return_sequences=True), merge_mode=mode),
        {},
    )

REFERENCE = {
    "simple_rnn": [
        "0.4552439 0.32356 0.02209116 -0.2929775 -0.4492694 0.5013356 0.4920695 0.266494 "
        "-0.1204641 -0.4286628 -0.06604332 -0.2395669 -0.2982381 -0.2224125 -0.03840009 "
        "0.3826194 -0.1863067 -0.5989339 -0.700989 -0.5636615 -0.1126681 -0.8735861 "
        "-0.9602339 -0.9265134 -0.5000331 0.3961582 -0.07192536 -0.4848436 -0.6276976 "
        "-0.5363447 0.1507682 -0.2547655 -0.5008296 -0.5237226 -0.3266117 0.5228981 0.7372553 "
        "0.6985044 0.360778 -0.2789009 ",
        "0.3826194 -0.1863067 -0.5989339 -0.700989 -0.5636615 0.5228981 0.7372553 0.6985044 "
        "0.360778 -0.2789009 ",
    ],
    "lstm": [
        "-0.08137751 -0.1638568 -0.1398603 -0.0815468 -0.001561905 -0.1312978 -0.2102214 "
        "-0.1727199 -0.08484515 0.025207 0.111298 0.132495 0.04585086 -0.1858101 -0.1752763 "
        "-0.07049207 0.02675643 -0.07206798 -0.1439155 0.01385948 -0.2012448 -0.1840147 "
        "-0.119344 -0.04244554 0.05148227 -0.2282919 -0.226064 -0.1489829 -0.03917104 "
        "0.08237576 0.08548837 -0.03125593 -0.1916995 -0.191754 -0.03448472 0.07815461 "
        "-0.0008849041 -0.09429126 -0.1132711 -0.05050242 ",
        "-0.07049207 0.02675643 -0.07206798 -0.1439155 0.01385948 0.07815461 -0.0008849041 "
        "-0.09429126 -0.1132711 -0.05050242 ",
        "-0.09302211 0.03411311 -0.1040166 -0.3010839 0.04704378 0.1653705 -0.001769163 "
        "-0.1821478 -0.2147494 -0.09539191 ",
    ],
    "gru": [
        "0.07588908 -0.07759362 -0.2622544 -0.4067721 -0.387729 0.1593169 -0.08290613 "
        "-0.3715141 -0.5733346 -0.5623869 0.07587765 0.07083258 -0.07199536 -0.2127493 "
        "-0.2567022 0.042257 -0.1972175 -0.4705729 -0.5685651 -0.3640952 -0.2745122 "
        "-0.4355211 -0.4403285 -0.1886067 0.2168687 -0.1462897 -0.3678587 -0.4498059 "
        "-0.3630735 -0.1328858 -0.1959181 -0.3036491 -0.285935 -0.1537298 0.03676661 "
        "0.05617966 -0.1180187 -0.2027595 -0.3281736 -0.4884859 ",
        "0.042257 -0.1972175 -0.4705729 -0.5685651 -0.3640952 0.05617966 -0.1180187 "
        "-0.2027595 -0.3281736 -0.4884859 ",
    ],
    "gru_reset_before": [
        "0.03757554 -0.1843618 -0.3765992 -0.4151672 -0.2301167 0.1059888 -0.2115472 "
        "-0.4774403 -0.5423753 -0.3627414 -0.07101298 -0.02992278 -0.08024716 -0.1432131 "
        "-0.1003091 -0.1290512 -0.3995493 -0.5793202 -0.5279037 -0.1244216 -0.391408 "
        "-0.5945787 -0.5650197 -0.1586664 0.298888 -0.2537014 -0.5005889 -0.5501424 "
        "-0.3440652 0.03454322 -0.3627194 -0.4570389 -0.350754 -0.09353298 0.1943398 "
        "-0.0195259 -0.162843 -0.2252341 -0.2817414 -0.3141023 ",
        "-0.1290512 -0.3995493 -0.5793202 -0.5279037 -0.1244216 -0.0195259 -0.162843 "
        "-0.2252341 -0.2817414 -0.3141023 ",
    ],
    "lstm_backwards": [
        "-0.2247665 -0.1884553 -0.1181114 -0.04081714 0.05496865 0.09911601 0.1345585 "
        "0.0740266 -0.1375134 -0.1182366 -0.00991802 0.006665355 -0.05853622 -0.1219109 "
        "-0.002747463 -0.08137248 -0.1699074 -0.1888419 -0.1778034 -0.009932634 0.001997682 "
        "0.008817655 0.01163905 0.009013359 0.001975393 0.1330854 0.0128888 -0.135659 "
        "-0.1548538 -0.1140425 -0.02155397 -0.1523322 -0.2019476 -0.124548 -0.005920287 "
        "-0.1904813 -0.2856627 -0.2673786 -0.1319573 0.03760071 ",
    ],
    "gru_backwards_last": [
        "0.1483991 -0.1045464 -0.4206856 -0.5954838 -0.5270053 -0.2722287 -0.5201619 "
        "-0.5641754 -0.3313746 0.1018298 ",
    ],
    "simple_rnn_relu": [
        "0.4912953 0.3356183 0.02209476 0 0 0.5499811 0.4765365 0.1789694 0 0 0 0 0 0 0 "
        "0.3806431 0 0 0 0 0 0 0 0 0 0.2493067 0 0 0 0 0.1527906 0 0 0 0 0.5635003 0.8943025 "
        "0.8045002 0.336329 0 ",
    ],
    "lstm_relu": [
        "0 0 0 0 0 0 0 0 0 0.031971 0.1752222 0.1966255 0.0757566 0 0.03647158 0.2573676 "
        "0.2917246 0.07557058 0 0.05592841 0 0 0 0 0.05445745 0 0 0 0 0.07865908 0.1591338 "
        "0.02122444 0 0 0.08862648 0.1138466 0.03345328 0.007043306 0 0.03881008 ",
        "0.2573676 0.2917246 0.07557058 0 0.05592841 0.1138466 0.03345328 0.007043306 0 "
        "0.03881008 ",
        "0.3496951 0.3810379 0.1100239 0 0.1752988 0.2416089 0.06914029 0.01397173 0 0.07320021 ",
    ],
    "gru_tanh_gates": [
        "-0.06163464 -0.2411716 -0.5560818 -0.9486237 -0.9292048 -0.01580065 -0.2621566 "
        "-0.5556849 -0.5333021 -0.3230913 -0.2697206 -0.1179182 -0.1602184 -0.07585257 "
        "0.1335314 -0.3024612 -0.5469962 -0.8929035 -1.01376 -0.6120993 -0.6188727 -1.039014 "
        "-1.067757 -0.4325986 0.679133 -0.426493 -0.7816216 -0.6995385 -0.4550287 -0.5547487 "
        "-0.4482429 -0.3766949 -0.141872 0.1601793 0.5145861 -0.1703512 -0.3094355 -0.1842192 "
        "-0.3018247 -1.304531 ",
    ],
    "lstm_mask": [
        "-0.08137751 -0.1638568 -0.1398603 -0.0815468 -0.001561905 -0.1312978 -0.2102214 "
        "-0.1727199 -0.08484513 0.025207 0.111298 0.132495 0.04585087 -0.1858101 -0.1752763 "
        "0.111298 0.132495 0.04585087 -0.1858101 -0.1752763 0 0 0 0 0 -0.1409719 -0.1463106 "
        "-0.09931125 -0.02856298 0.04998922 -0.1409719 -0.1463106 -0.09931125 -0.02856298 "
        "0.04998922 -0.04344366 -0.02420054 -0.00487199 0.009280339 0.03417317 ",
        "0.111298 0.132495 0.04585087 -0.1858101 -0.1752763 -0.04344366 -0.02420054 "
        "-0.00487199 0.009280339 0.03417317 ",
        "0.4197883 0.3881923 0.08968948 -0.2897029 -0.247382 -0.09083827 -0.05179294 "
        "-0.01034523 0.01902333 0.06703313 ",
    ],
    "gru_mask_last": [
        "0.07587765 0.0708326 -0.07199536 -0.2127493 -0.2567022 0.2083494 0.02095786 "
        "-0.1848832 -0.4347699 -0.5965689 ",
        "0.07587765 0.0708326 -0.07199536 -0.2127493 -0.2567022 0.2083494 0.02095786 "
        "-0.1848832 -0.4347699 -0.5965689 ",
    ],
    "simple_rnn_mask_backwards": [
        "0 0 0 0 0 -0.1386331 -0.3963184 -0.463551 -0.3349201 -0.0310458 0.4636655 0.3486001 "
        "0.05454978 -0.2732035 -0.4489695 0.5163349 0.4686802 0.2034491 -0.1904084 -0.4630536 "
        "0.4541283 0.6776937 0.6480041 0.3415544 -0.2236647 0.4541283 0.6776937 0.6480041 "
        "0.3415544 -0.2236647 0.2543403 -0.1115769 -0.406523 -0.4989611 -0.3856745 0.2543403 "
        "-0.1115769 -0.406523 -0.4989611 -0.3856745 ",
        "0.5163349 0.4686802 0.2034491 -0.1904084 -0.4630536 0.2543403 -0.1115769 -0.406523 "
        "-0.4989611 -0.3856745 ",
    ],
    "lstm_mask_initial_state": [
        "-0.01203726 -0.0833974 -0.05624138 -0.01105766 0.04404194 -0.09587498 -0.1691398 "
        "-0.1290859 -0.04895733 0.04648368 0.1158039 0.1386734 0.05873525 -0.1644158 "
        "-0.1522173 0.1158039 0.1386734 0.05873525 -0.1644158 -0.1522173 0 0 0 0 0 "
        "-0.06269883 -0.06310575 -0.02394776 0.02567278 0.08215421 -0.06269883 -0.06310575 "
        "-0.02394776 0.02567278 0.08215421 -0.01336943 0.002070258 0.01842821 0.0301306 "
        "0.05272117 ",
        "0.1158039 0.1386734 0.05873525 -0.1644158 -0.1522173 -0.01336943 0.002070258 "
        "0.01842821 0.0301306 0.05272117 ",
        "0.4382526 0.4071075 0.1148497 -0.2545656 -0.2137951 -0.02781043 0.004386146 "
        "0.03870995 0.06135008 0.1035235 ",
    ],
    "gru_initial_state": [
        "0.1481613 -0.005055852 -0.1969399 -0.3622133 -0.368378 0.2115022 -0.03222731 "
        "-0.3339444 -0.5578055 -0.5638326 0.1032436 0.0992319 -0.05029172 -0.2043549 "
        "-0.2591851 0.06177863 -0.1797348 -0.4611413 -0.5669596 -0.3675532 -0.2131343 "
        "-0.3792578 -0.3913918 -0.1519903 0.2487673 -0.1058883 -0.3325682 -0.4226597 "
        "-0.3476151 -0.1281846 -0.173171 -0.2848074 -0.2728642 -0.1478835 0.03638732 "
        "0.0716522 -0.1044056 -0.1937459 -0.3256273 -0.4906437 ",
    ],
    "bidirectional_concat": [
        "-0.08137751 -0.1638568 -0.1398603 -0.0815468 -0.001561905 0.1420759 0.1749295 "
        "0.1708556 -0.001969242 -0.1812137 -0.1312978 -0.2102214 -0.1727199 -0.08484515 "
        "0.025207 0.1322906 0.1599962 0.1332212 0.03899942 -0.02414876 0.111298 0.132495 "
        "0.04585086 -0.1858101 -0.1752763 0.125015 0.1303948 0.1049412 0.09950007 0.1109687 "
        "-0.07049207 0.02675643 -0.07206798 -0.1439155 0.01385948 0.12921 0.1741314 "
        "0.09354633 -0.1823724 -0.2156444 -0.2012448 -0.1840147 -0.119344 -0.04244554 "
        "0.05148227 0.1453291 0.195867 0.1386246 -0.164802 -0.2762604 -0.2282919 -0.226064 "
        "-0.1489829 -0.03917104 0.08237576 0.123146 0.1526061 0.1109725 0.01430397 "
        "-0.08447294 0.08548837 -0.03125593 -0.1916995 -0.191754 -0.03448472 -0.003106256 "
        "0.07320891 0.1189722 0.1419331 0.08217682 0.07815461 -0.0008849041 -0.09429126 "
        "-0.1132711 -0.05050242 -0.009568105 -0.01169667 -0.008337741 -0.00122591 0.006391323 ",
    ],
    "bidirectional_sum": [
        "0.06069837 0.01107265 0.03099529 -0.08351604 -0.1827756 0.0009928346 -0.05022518 "
        "-0.0394987 -0.04584572 0.001058243 0.236313 0.2628898 0.150792 -0.08631007 "
        "-0.06430761 0.05871794 0.2008878 0.02147835 -0.3262879 -0.2017849 -0.05591568 "
        "0.01185226 0.01928063 -0.2072476 -0.2247782 -0.1051459 -0.07345788 -0.0380104 "
        "-0.02486707 -0.002097175 0.08238211 0.04195298 -0.07272732 -0.04982087 0.0476921 "
        "0.06858651 -0.01258158 -0.102629 -0.114497 -0.0441111 ",
    ],
    "bidirectional_mul": [
        "-0.01156178 -0.02866338 -0.02389591 0.0001605854 0.0002830385 -0.01736946 "
        "-0.03363461 -0.02300996 -0.003308912 -0.0006087177 0.01391392 0.01727666 0.004811643 "
        "-0.01848812 -0.01945018 -0.009108281 0.004659135 -0.006741696 0.02624622 "
        "-0.002988718 -0.02924673 -0.03604241 -0.01654401 0.00699511 -0.01422251 -0.02811324 "
        "-0.03449873 -0.01653299 -0.0005603015 -0.006958523 -0.0002655487 -0.002288212 "
        "-0.0228069 -0.02721625 -0.002833845 -0.0007477915 1.035043e-05 0.0007861761 "
        "0.0001388602 -0.0003227773 ",
    ],
    "bidirectional_ave": [
        "0.03034918 0.005536325 0.01549765 -0.04175802 -0.09138781 0.0004964173 -0.02511259 "
        "-0.01974935 -0.02292286 0.0005291216 0.1181565 0.1314449 0.07539602 -0.04315504 "
        "-0.0321538 0.02935897 0.1004439 0.01073917 -0.163144 -0.1008925 -0.02795784 "
        "0.005926132 0.009640317 -0.1036238 -0.1123891 -0.05257297 -0.03672894 -0.0190052 "
        "-0.01243354 -0.001048587 0.04119106 0.02097649 -0.03636366 -0.02491044 0.02384605 "
        "0.03429325 -0.006290789 -0.0513145 -0.05724852 -0.02205555 ",
    ],
    "bidirectional_None": [
        "-0.08137751 -0.1638568 -0.1398603 -0.0815468 -0.001561905 -0.1312978 -0.2102214 "
        "-0.1727199 -0.08484515 0.025207 0.111298 0.132495 0.04585086 -0.1858101 -0.1752763 "
        "-0.07049207 0.02675643 -0.07206798 -0.1439155 0.01385948 -0.2012448 -0.1840147 "
        "-0.119344 -0.04244554 0.05148227 -0.2282919 -0.226064 -0.1489829 -0.03917104 "
        "0.08237576 0.08548837 -0.03125593 -0.1916995 -0.191754 -0.03448472 0.07815461 "
        "-0.0008849041 -0.09429126 -0.1132711 -0.05050242 ",
        "0.1420759 0.1749295 0.1708556 -0.001969242 -0.1812137 0.1322906 0.1599962 0.1332212 "
        "0.03899942 -0.02414876 0.125015 0.1303948 0.1049412 0.09950007 0.1109687 0.12921 "
        "0.1741314 0.09354633 -0.1823724 -0.2156444 0.1453291 0.195867 0.1386246 -0.164802 "
        "-0.2762604 0.123146 0.1526061 0.1109725 0.01430397 -0.08447294 -0.003106256 "
        "0.07320891 0.1189722 0.1419331 0.08217682 -0.009568105 -0.01169667 -0.008337741 "
        "-0.00122591 0.006391323 ",
    ],
    "bidirectional_gru_state": [
        "0.042257 -0.1972175 -0.4705729 -0.5685651 -0.3640952 0.1040376 0.3779812 0.3353768 "
        "0.2258071 0.02315719 0.05617966 -0.1180187 -0.2027595 -0.3281736 -0.4884859 "
        "0.3823845 0.4022136 0.2218016 -0.1640938 -0.4610927 ",
        "0.042257 -0.1972175 -0.4705729 -0.5685651 -0.3640952 0.05617966 -0.1180187 "
        "-0.2027595 -0.3281736 -0.4884859 ",
        "0.1040376 0.3779812 0.3353768 0.2258071 0.02315719 0.3823845 0.4022136 0.2218016 "
        "-0.1640938 -0.4610927 ",
    ],
    "bidirectional_gru_mask": [
        "0.07588908 -0.07759362 -0.2622544 -0.4067721 -0.387729 0.08224101 0.3451677 "
        "0.3001042 0.2046603 0.05799091 0.1593169 -0.08290613 -0.3715141 -0.5733346 "
        "-0.5623869 -0.07157694 0.1251155 0.1019014 0.1093232 0.1012204 0.07587765 0.0708326 "
        "-0.07199536 -0.2127493 -0.2567022 -0.2291381 -0.3238961 -0.2502488 -0.06440505 "
        "0.09240917 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0.02481106 -0.1198345 -0.2556041 "
        "-0.325272 -0.2389222 -0.02707902 0.2379743 0.3586602 0.2034075 -0.01716365 0 0 0 0 0 "
        "0 0 0 0 0 0.2083494 0.02095786 -0.1848832 -0.4347699 -0.5965689 -0.4748933 "
        "0.003902431 0.2973468 0.232978 0.142417 ",
    ],
    "time_distributed_dense": [
        "0.2575136 0.5237016 0.5435846 0.3078113 0.2779262 0.5854298 0.6175966 0.3592981 "
        "0.8625318 0.7026523 0.2123044 -0.3778936 0.3643405 0.1567098 -0.1246239 -0.3473451 "
        "0.8383838 -0.2663644 -1.245837 -1.639373 0.4904538 0.3115783 -0.01383741 -0.3327451 "
        "0.6969637 0.4033099 -0.08002694 -0.5257258 0.2594146 1.014423 1.292333 0.9624381 ",
    ],
}


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()
    yield
    lamina.clear_session()


def run_case(name):
    make, options = CASES[name]
    layer = make()
    layer.build((None, *X.shape[1:]))
    layer.set_weights(keras_weights([w.shape for w in layer.get_weights()]))
    kwargs = {}
    if options.get("mask"):
        kwargs["mask"] = torch.from_numpy(MASK)
    if options.get("initial_state"):
        count = options["initial_state"]
        kwargs["initial_state"] = [torch.full((2, 5), 0.1 * (k + 1)) for k in range(count)]
    with torch.no_grad():
        result = layer(torch.from_numpy(X), **kwargs)
    return list(result) if isinstance(result, tuple) else [result]  # a tuple, as Keras


@pytest.mark.parametrize("name", sorted(REFERENCE, key=str))
def test_outputs_match_keras(name):
    for got, want in zip(run_case(name), REFERENCE[name], strict=True):
        np.testing.assert_allclose(
            got.numpy().ravel(), np.array(want.split(), "float32"), atol=1e-5
        )


@pytest.mark.parametrize(
    ("make", "count"),
    [
        (lambda: LSTM(8), 448),
        (lambda: LSTM(8, use_bias=False), 416),
        (lambda: GRU(8), 360),
        (lambda: GRU(8, reset_after=False), 336),
        (lambda: SimpleRNN(8), 112),
        (lambda: Bidirectional(LSTM(8)), 896),
    ],
)
def test_count_params_matches_keras(make, count):
    layer = make()
    layer.build((None, 7, 5))
    assert layer.count_params() == count


def test_get_weights_are_in_keras_order_and_layout():
    shapes = {
        SimpleRNN: [(3, 5), (5, 5), (5,)],
        LSTM: [(3, 20), (5, 20), (20,)],
        GRU: [(3, 15), (5, 15), (2, 15)],
    }
    for cls, expected in shapes.items():
        layer = cls(5)
        layer.build((None, 4, 3))
        assert [w.shape for w in layer.get_weights()] == expected
        wrapper = Bidirectional(cls(5))
        wrapper.build((None, 4, 3))
        weights = wrapper.get_weights()  # forward, then backward
        assert [w.shape for w in weights] == expected * 2
        forward = wrapper.forward_layer.get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(weights, forward, strict=False))
    lstm = LSTM(2)
    lstm.build((None, 4, 3))
    assert lstm.get_weights()[2].tolist() == [0, 0, 1, 1, 0, 0, 0, 0]  # unit_forget_bias


def test_gru_gates_are_swapped_at_the_keras_boundary():
    layer = GRU(1, recurrent_initializer="zeros")
    layer.build((None, 2, 1))
    layer.set_weights([np.array([[1.0, 2.0, 3.0]]), np.zeros((1, 3)), np.zeros((2, 3))])
    # Keras' (z, r, h) columns are PyTorch's rows (r, z, n).
    assert layer.weight_ih_l0.flatten().tolist() == [2.0, 1.0, 3.0]
    assert layer.get_weights()[0].tolist() == [[1.0, 2.0, 3.0]]


@pytest.mark.parametrize(
    ("make", "torch_cls", "torch_kwargs"),
    [
        (lambda: LSTM(5, return_sequences=True), torch.nn.LSTM, {}),
        (lambda: GRU(5, return_sequences=True), torch.nn.GRU, {}),
        (lambda: SimpleRNN(5, return_sequences=True), torch.nn.RNN, {}),
        (
            lambda: SimpleRNN(5, activation="relu", return_sequences=True),
            torch.nn.RNN,
            {"nonlinearity": "relu"},
        ),
        (lambda: LSTM(5, use_bias=False, return_sequences=True), torch.nn.LSTM, {"bias": False}),
    ],
)
def test_state_dict_interoperates_with_torch_nn(make, torch_cls, torch_kwargs):
    x = torch.from_numpy(X)
    layer = make()
    layer.build((None, 4, 3))
    layer.set_weights(keras_weights([w.shape for w in layer.get_weights()]))
    reference = torch_cls(3, 5, batch_first=True, **torch_kwargs)
    reference.load_state_dict(layer.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(layer(x), reference(x)[0])
        # And back, from torch.nn's own initialisation (a nonzero bias_hh_l0).
        reference = torch_cls(3, 5, batch_first=True, **torch_kwargs)
        layer.load_state_dict(reference.state_dict())
        torch.testing.assert_close(layer(x), reference(x)[0])
    rebuilt = make()
    rebuilt.build((None, 4, 3))
    rebuilt.set_weights(layer.get_weights())  # Keras' weights hold torch's two biases summed
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), reference(x)[0])


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_fused_and_looped_paths_agree(cls):
    layer = cls(5, return_sequences=True, return_state=True)
    x = torch.from_numpy(X)
    with torch.no_grad():
        fused = layer(x)
        looped = layer(x, mask=torch.ones(2, 4, dtype=torch.bool))  # a mask forces the loop
    for a, b in zip(fused, looped, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    "make",
    [
        lambda: LSTM(4, return_sequences=True),
        lambda: GRU(4, reset_after=False),
        lambda: SimpleRNN(4, recurrent_dropout=0.3, dropout=0.2),
        lambda: Bidirectional(GRU(4, return_sequences=True), merge_mode="mul"),
    ],
)
def test_gradients_reach_every_weight_and_are_finite(make):
    layer = make()
    x = torch.from_numpy(X).requires_grad_(True)
    layer(x, training=True).square().mean().backward()
    assert all(w.grad is not None and torch.isfinite(w.grad).all() for w in layer.trainable_weights)
    assert torch.isfinite(x.grad).all()


def test_dropout_acts_only_in_training():
    layer = LSTM(6, dropout=0.5, recurrent_dropout=0.5, seed=3)
    x = torch.from_numpy(X)
    with torch.no_grad():
        assert torch.equal(layer(x), layer(x))
        assert not torch.equal(layer(x, training=True), layer(x))


@pytest.mark.parametrize(
    ("cls", "kwargs", "expected"),
    [
        (SimpleRNN, {"units": 3}, (2, 3)),
        (LSTM, {"units": 3, "return_sequences": True}, (2, 4, 3)),
        (GRU, {"units": 3, "reset_after": False, "go_backwards": True}, (2, 3)),
        (Bidirectional, {"layer": LSTM(3), "merge_mode": "ave"}, (2, 3)),
        (TimeDistributed, {"layer": Dense(2)}, (2, 4, 2)),
    ],
)
def test_layer_contract_and_config_round_trip(cls, kwargs, expected):
    layer = check_layer(cls, kwargs, (2, 4, 3), expected_output_shape=expected)
    config = json.loads(json.dumps(layer.get_config()))
    # Compared as JSON: configs hold tuples (a built wrapper's inner build_config) as Keras'.
    assert json.loads(json.dumps(cls.from_config(config).get_config())) == config


def test_symbolic_calls_infer_shapes():
    inputs = Input((7, 5))
    assert LSTM(8, return_sequences=True)(inputs).shape == (None, 7, 8)
    output, h, c = LSTM(8, return_state=True)(inputs)
    assert (output.shape, h.shape, c.shape) == ((None, 8), (None, 8), (None, 8))
    forward, backward, *states = Bidirectional(GRU(4, return_state=True), merge_mode=None)(inputs)
    assert (forward.shape, len(states)) == ((None, 4), 2)
    assert TimeDistributed(Dense(3))(inputs).shape == (None, 7, 3)
    model = lamina.Model(inputs, Dense(1)(output))
    assert model.count_params() == 448 + 9


def test_sequential_model_with_an_lstm_trains(capsys):
    torch.manual_seed(0)
    model = lamina.Sequential([Input((6, 3)), LSTM(8), Dense(1)])
    model.summary()
    assert "384" in capsys.readouterr().out  # 4 * 8 * (3 + 8 + 1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 6, 3)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None] / 4
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    losses = history.history["loss"]
    assert losses[1] < losses[0]


def test_invalid_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="units must be a positive int"):
        GRU(0)
    with pytest.raises(ValueError, match="expects 3-D input"):
        LSTM(4)(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="initial_state to be 2 tensor"):
        LSTM(4)(torch.zeros(2, 3, 5), initial_state=[torch.zeros(2, 4)])
    with pytest.raises(ValueError, match="mask of shape"):
        GRU(4)(torch.zeros(2, 3, 5), mask=torch.ones(2, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="merge_mode must be one of"):
        Bidirectional(LSTM(4), merge_mode="max")


def test_model_file_round_trip(tmp_path, monkeypatch):
    # Model files resolve classes through lamina.layers, which exports these layers.
    for cls in (GRU, LSTM, Bidirectional, TimeDistributed):
        monkeypatch.setattr(lamina.layers, cls.__name__, cls, raising=False)
    model = lamina.Sequential(
        [
            Input((4, 3)),
            Bidirectional(GRU(5, return_sequences=True)),
            TimeDistributed(Dense(2)),
            LSTM(3),
        ]
    )
    x = torch.from_numpy(X)
    path = tmp_path / "model.lamina"
    model.save(path)
    loaded = lamina.models.load_model(path)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
    weights = tmp_path / "model.weights.safetensors"
    model.save_weights(weights)
    model.load_weights(weights)
