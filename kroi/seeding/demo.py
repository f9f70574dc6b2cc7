"""`kroi seed --demo N`: N synthetic but plausible Finnish used-car listings, bulk-loaded with COPY.

Reproducible: the random generator is seeded from the current largest car id and N, so the same database
state gives the same cars, and a second call adds different ones. Pictures come from a small pool drawn
once into storage under demo/ and shared by all demo cars.
"""
from __future__ import annotations

import asyncio
import bisect
import math
import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kroi.db.models.inventory import BODY_TYPES, FUELS
from kroi.inventory.services import slugify
from kroi.seeding.images import VARIANTS, draw_car, encode_variants
from kroi.seeding.original import ensure_brand_model, ensure_features, load_cars
from kroi.storage import Storage

# --- the catalogue ------------------------------------------------------------------------------------------
# Engine spec: "label:fuel:kW:cc[:drive[:from[-to]]]" (cc empty for electric; drive fwd when left out).
# Model: (name, body type, first year, last year, new price in euros around 2024, engines, popularity).

Model = tuple[str, str, int, int, int, tuple[str, ...], int]

CATALOGUE: dict[str, tuple[int, str, tuple[str, ...], tuple[Model, ...]]] = {
    # brand: (popularity, VIN maker code, trims, models)
    "Toyota": (16, "SB1", ("Active", "Style", "Premium", "GR Sport"), (
        ("Yaris", "hatchback", 2008, 2025, 22000, (
            "1.0 VVT-i:petrol:51:998", "1.33 Dual VVT-i:petrol:73:1329:fwd:2008-2019",
            "1.5 Hybrid:hybrid:74:1497:fwd:2012", "1.5 Hybrid 130:hybrid:85:1490:fwd:2024"), 10),
        ("Corolla", "hatchback", 2019, 2025, 29000, ("1.8 Hybrid:hybrid:90:1798", "2.0 Hybrid:hybrid:135:1987"), 10),
        ("Corolla", "estate", 2019, 2025, 31000, (
            "Touring Sports 1.8 Hybrid:hybrid:90:1798", "Touring Sports 2.0 Hybrid:hybrid:135:1987"), 12),
        ("Auris", "hatchback", 2008, 2018, 25000, (
            "1.6 Valvematic:petrol:97:1598", "1.8 Hybrid:hybrid:73:1798:fwd:2010", "1.4 D-4D:diesel:66:1364"), 6),
        ("Auris", "estate", 2013, 2018, 27000, ("Touring Sports 1.8 Hybrid:hybrid:73:1798",
                                               "Touring Sports 1.6 Valvematic:petrol:97:1598"), 6),
        ("Avensis", "estate", 2008, 2018, 32000, (
            "1.8 Valvematic Wagon:petrol:108:1798", "2.0 D-4D Wagon:diesel:91:1998"), 5),
        ("RAV4", "suv", 2008, 2025, 45000, (
            "2.0 Valvematic AWD:petrol:112:1987:awd:2008-2018", "2.5 Hybrid:hybrid:160:2487:fwd:2016",
            "2.5 Hybrid AWD-i:hybrid:163:2487:awd:2016", "2.5 Plug-in Hybrid AWD:plug_in_hybrid:225:2487:awd:2021"), 10),
        ("C-HR", "suv", 2017, 2025, 34000, ("1.8 Hybrid:hybrid:90:1798", "2.0 Hybrid:hybrid:135:1987:fwd:2020"), 6),
        ("Prius", "hatchback", 2010, 2022, 33000, (
            "1.8 Hybrid:hybrid:90:1798", "Plug-in 1.8:plug_in_hybrid:90:1798:fwd:2013"), 3),
        ("Hilux", "pickup", 2008, 2025, 46000, ("2.4 D-4D 4WD:diesel:110:2393:awd", "2.5 D-4D 4WD:diesel:106:2494:awd"), 3),
        ("Proace", "van", 2016, 2025, 38000, ("2.0 D-4D:diesel:90:1997", "2.0 D-4D 150:diesel:110:1997"), 2),
    )),
    "Volkswagen": (11, "WVW", ("Trendline", "Comfortline", "Highline", "Life", "Style", "R-Line"), (
        ("Golf", "hatchback", 2008, 2025, 31000, (
            "1.4 TSI:petrol:90:1395:fwd:2008-2019", "1.0 TSI:petrol:81:999:fwd:2017", "1.5 eTSI:petrol:110:1498:fwd:2020",
            "1.6 TDI:diesel:77:1598:fwd:2008-2019", "2.0 TDI:diesel:110:1968", "GTE 1.4 TSI:plug_in_hybrid:150:1395:fwd:2015",
            "e-Golf:electric:100::fwd:2015-2020"), 10),
        ("Golf", "estate", 2008, 2025, 33000, (
            "Variant 1.4 TSI:petrol:90:1395:fwd:2008-2019", "Variant 1.6 TDI:diesel:77:1598:fwd:2008-2019",
            "Variant 2.0 TDI:diesel:110:1968", "Variant 1.5 eTSI:petrol:110:1498:fwd:2020"), 8),
        ("Passat", "estate", 2008, 2025, 42000, (
            "Variant 2.0 TDI:diesel:110:1968", "Variant 2.0 TDI 4Motion:diesel:140:1968:awd",
            "Variant GTE 1.4 TSI:plug_in_hybrid:160:1395:fwd:2015", "Variant 1.5 TSI:petrol:110:1498:fwd:2019",
            "Variant 1.4 TSI EcoFuel:gas:110:1390:fwd:2009-2017"), 9),
        ("Polo", "hatchback", 2008, 2025, 21000, ("1.2 TSI:petrol:66:1197:fwd:2008-2017", "1.0 TSI:petrol:70:999:fwd:2017",
                                                 "1.6 TDI:diesel:66:1598:fwd:2008-2019"), 6),
        ("Tiguan", "suv", 2008, 2025, 45000, (
            "2.0 TDI 4Motion:diesel:110:1968:awd", "1.5 TSI:petrol:110:1498:fwd:2019",
            "eHybrid 1.4 TSI:plug_in_hybrid:180:1395:fwd:2021", "2.0 TSI 4Motion:petrol:140:1984:awd"), 8),
        ("ID.3", "hatchback", 2020, 2025, 41000, ("Pro:electric:107::rwd", "Pro S:electric:150::rwd"), 4),
        ("ID.4", "suv", 2021, 2025, 50000, ("Pro Performance:electric:150::rwd", "GTX:electric:220::awd"), 5),
        ("Touran", "mpv", 2008, 2024, 37000, ("1.4 TSI:petrol:110:1395", "2.0 TDI:diesel:110:1968"), 3),
        ("Transporter", "van", 2008, 2025, 46000, ("2.0 TDI:diesel:110:1968", "2.0 TDI 4Motion:diesel:146:1968:awd"), 4),
        ("Caddy", "van", 2008, 2025, 30000, ("2.0 TDI:diesel:75:1968", "1.4 TGI:gas:81:1395:fwd:2016-2020"), 3),
        ("Arteon", "sedan", 2018, 2024, 52000, ("2.0 TDI 4Motion:diesel:147:1968:awd", "2.0 TSI:petrol:140:1984"), 1),
    )),
    "Skoda": (9, "TMB", ("Active", "Ambition", "Style", "L&K", "Sportline"), (
        ("Octavia", "estate", 2008, 2025, 34000, (
            "Combi 1.4 TSI:petrol:110:1395:fwd:2013-2019", "Combi 1.6 TDI:diesel:85:1598:fwd:2008-2019",
            "Combi 2.0 TDI:diesel:110:1968", "Combi 2.0 TDI 4x4:diesel:110:1968:awd",
            "Combi 1.5 TSI:petrol:110:1498:fwd:2018", "Combi 1.4 TSI iV:plug_in_hybrid:150:1395:fwd:2020",
            "Combi 1.5 TSI G-TEC:gas:96:1498:fwd:2019-2021"), 14),
        ("Octavia", "hatchback", 2008, 2025, 32000, ("1.4 TSI:petrol:110:1395:fwd:2013-2019", "2.0 TDI:diesel:110:1968",
                                                    "1.5 TSI:petrol:110:1498:fwd:2018"), 5),
        ("Superb", "estate", 2008, 2025, 46000, (
            "Combi 2.0 TDI:diesel:140:1968", "Combi 2.0 TDI 4x4:diesel:140:1968:awd",
            "Combi 1.4 TSI iV:plug_in_hybrid:160:1395:fwd:2020"), 6),
        ("Fabia", "hatchback", 2008, 2025, 19000, ("1.0 TSI:petrol:70:999:fwd:2015", "1.2 TSI:petrol:66:1197:fwd:2008-2018"), 5),
        ("Kodiaq", "suv", 2017, 2025, 47000, ("2.0 TDI 4x4:diesel:140:1968:awd", "1.5 TSI:petrol:110:1498"), 5),
        ("Karoq", "suv", 2018, 2025, 36000, ("1.5 TSI:petrol:110:1498", "2.0 TDI 4x4:diesel:110:1968:awd"), 4),
        ("Enyaq", "suv", 2021, 2025, 52000, ("iV 60:electric:132::rwd", "iV 80:electric:150::rwd", "iV 80x:electric:195::awd"), 5),
    )),
    "Volvo": (8, "YV1", ("Momentum", "Inscription", "R-Design", "Kinetic", "Summum", "Plus", "Ultimate"), (
        ("V60", "estate", 2011, 2025, 52000, (
            "D4:diesel:140:1969", "D3:diesel:110:1969:fwd:2011-2020", "T6 Twin Engine AWD:plug_in_hybrid:250:1969:awd:2019",
            "B4:hybrid:145:1969:fwd:2021", "D6 Twin Engine AWD:plug_in_hybrid:210:2400:awd:2013-2018"), 10),
        ("V70", "estate", 2008, 2016, 46000, ("D5 AWD:diesel:158:2400:awd", "2.0D:diesel:100:1997", "T4:petrol:132:1596"), 6),
        ("XC60", "suv", 2008, 2025, 60000, (
            "D4 AWD:diesel:140:1969:awd", "D5 AWD:diesel:173:2400:awd:2008-2017",
            "T8 Twin Engine AWD:plug_in_hybrid:288:1969:awd:2018", "B5 AWD:hybrid:184:1969:awd:2021"), 9),
        ("XC90", "suv", 2008, 2025, 80000, (
            "D5 AWD:diesel:173:1969:awd", "T8 Twin Engine AWD:plug_in_hybrid:288:1969:awd:2016"), 4),
        ("XC40", "suv", 2018, 2025, 42000, (
            "T3:petrol:120:1477", "T5 Recharge:plug_in_hybrid:192:1477:fwd:2020",
            "Recharge Twin:electric:300::awd:2021"), 7),
        ("V90", "estate", 2017, 2025, 65000, ("D4:diesel:140:1969", "T8 Twin Engine AWD:plug_in_hybrid:288:1969:awd"), 4),
        ("V40", "hatchback", 2012, 2019, 30000, ("D2:diesel:88:1969", "T3:petrol:112:1498"), 4),
        ("S60", "sedan", 2008, 2024, 50000, ("D4:diesel:140:1969", "T8 Twin Engine AWD:plug_in_hybrid:288:1969:awd:2019"), 2),
    )),
    "BMW": (6, "WBA", ("Business", "Sport Line", "Luxury Line", "M Sport", "Edition"), (
        ("3-sarja", "sedan", 2008, 2025, 50000, (
            "320d:diesel:140:1995:rwd", "320d xDrive:diesel:140:1995:awd", "330e:plug_in_hybrid:215:1998:rwd:2016",
            "318i:petrol:115:1499:rwd:2016"), 6),
        ("3-sarja", "estate", 2008, 2025, 52000, (
            "320d Touring:diesel:140:1995:rwd", "320d xDrive Touring:diesel:140:1995:awd",
            "330e xDrive Touring:plug_in_hybrid:215:1998:awd:2020"), 8),
        ("5-sarja", "estate", 2008, 2025, 68000, (
            "520d Touring:diesel:140:1995:rwd", "530d xDrive Touring:diesel:210:2993:awd",
            "530e xDrive Touring:plug_in_hybrid:215:1998:awd:2020"), 5),
        ("5-sarja", "sedan", 2008, 2025, 65000, ("520d:diesel:140:1995:rwd", "530e:plug_in_hybrid:185:1998:rwd:2017"), 3),
        ("X1", "suv", 2010, 2025, 45000, ("sDrive18i:petrol:103:1499:fwd:2016", "xDrive20d:diesel:140:1995:awd",
                                          "xDrive25e:plug_in_hybrid:162:1499:awd:2020"), 5),
        ("X3", "suv", 2008, 2025, 62000, ("xDrive20d:diesel:140:1995:awd", "xDrive30e:plug_in_hybrid:215:1998:awd:2020"), 5),
        ("X5", "suv", 2008, 2025, 90000, ("xDrive30d:diesel:195:2993:awd", "xDrive45e:plug_in_hybrid:290:2998:awd:2019"), 3),
        ("1-sarja", "hatchback", 2008, 2025, 35000, ("118i:petrol:100:1499", "116d:diesel:85:1496"), 4),
        ("i3", "hatchback", 2014, 2022, 40000, ("94 Ah:electric:125::rwd", "120 Ah:electric:125::rwd:2019"), 3),
        ("i4", "sedan", 2022, 2025, 60000, ("eDrive40:electric:250::rwd", "M50:electric:400::awd"), 2),
        ("4-sarja", "coupe", 2014, 2025, 55000, ("420i Coupe:petrol:135:1998:rwd", "430i xDrive Coupe:petrol:190:1998:awd"), 2),
        ("4-sarja", "convertible", 2014, 2025, 62000, ("420i Cabriolet:petrol:135:1998:rwd",), 1),
    )),
    "Mercedes-Benz": (6, "WDD", ("Avantgarde", "AMG Line", "Progressive", "Business", "Elegance"), (
        ("C-sarja", "estate", 2008, 2025, 55000, (
            "C 220 d T:diesel:125:2143:rwd:2008-2018", "C 220 d 4MATIC T:diesel:143:1950:awd:2019",
            "C 300 e T:plug_in_hybrid:230:1991:rwd:2020", "C 200 T:petrol:150:1496:rwd:2018"), 7),
        ("C-sarja", "sedan", 2008, 2025, 52000, ("C 200:petrol:135:1991:rwd", "C 220 d:diesel:125:2143:rwd",
                                                 "C 350 e:plug_in_hybrid:205:1991:rwd:2015"), 4),
        ("E-sarja", "estate", 2008, 2025, 72000, ("E 220 d T:diesel:143:1950:rwd", "E 300 de 4MATIC T:plug_in_hybrid:225:1950:awd:2019"), 4),
        ("E-sarja", "sedan", 2008, 2025, 68000, ("E 220 d:diesel:143:1950:rwd", "E 300 e:plug_in_hybrid:235:1991:rwd:2019"), 3),
        ("A-sarja", "hatchback", 2008, 2025, 38000, ("A 180:petrol:100:1332:fwd:2013", "A 250 e:plug_in_hybrid:160:1332:fwd:2020",
                                                    "A 180 d:diesel:85:1461:fwd:2013"), 5),
        ("GLC", "suv", 2016, 2025, 70000, ("GLC 220 d 4MATIC:diesel:143:2143:awd", "GLC 300 e 4MATIC:plug_in_hybrid:235:1991:awd:2020"), 5),
        ("GLA", "suv", 2014, 2025, 45000, ("GLA 200:petrol:120:1332", "GLA 250 e:plug_in_hybrid:160:1332:fwd:2021"), 3),
        ("B-sarja", "mpv", 2008, 2025, 40000, ("B 180:petrol:100:1332", "B 200 d:diesel:110:1950"), 3),
        ("EQA", "suv", 2021, 2025, 55000, ("EQA 250:electric:140::fwd", "EQA 300 4MATIC:electric:168::awd"), 2),
        ("Vito", "van", 2008, 2025, 48000, ("116 CDI:diesel:120:2143:rwd", "114 CDI:diesel:100:2143:fwd:2015"), 3),
        ("Sprinter", "van", 2008, 2025, 55000, ("316 CDI:diesel:120:2143:rwd", "319 CDI:diesel:140:2987:rwd"), 2),
        ("E-sarja", "coupe", 2010, 2023, 70000, ("E 220 d Coupe:diesel:143:1950:rwd", "E 400 4MATIC Coupe:petrol:245:2996:awd"), 1),
    )),
    "Audi": (5, "WAU", ("Business", "Design", "S line", "Sport", "Advanced"), (
        ("A4", "estate", 2008, 2025, 52000, ("Avant 2.0 TDI:diesel:110:1968", "Avant 2.0 TDI quattro:diesel:140:1968:awd",
                                             "Avant 40 TFSI:petrol:150:1984:fwd:2019"), 8),
        ("A4", "sedan", 2008, 2025, 50000, ("2.0 TDI:diesel:110:1968", "2.0 TFSI quattro:petrol:185:1984:awd"), 3),
        ("A6", "estate", 2008, 2025, 70000, ("Avant 3.0 TDI quattro:diesel:160:2967:awd", "Avant 50 TFSI e quattro:plug_in_hybrid:220:1984:awd:2020"), 5),
        ("A3", "hatchback", 2008, 2025, 38000, ("Sportback 1.4 TFSI:petrol:92:1395:fwd:2012-2020",
                                               "Sportback 30 TDI:diesel:85:1968:fwd:2019", "Sportback 40 TFSI e:plug_in_hybrid:150:1395:fwd:2020",
                                               "Sportback e-tron:plug_in_hybrid:150:1395:fwd:2015-2019"), 6),
        ("Q5", "suv", 2009, 2025, 66000, ("2.0 TDI quattro:diesel:140:1968:awd", "55 TFSI e quattro:plug_in_hybrid:270:1984:awd:2020"), 5),
        ("Q3", "suv", 2012, 2025, 45000, ("35 TFSI:petrol:110:1498:fwd:2019", "2.0 TDI quattro:diesel:110:1968:awd"), 4),
        ("e-tron", "suv", 2019, 2023, 85000, ("50 quattro:electric:230::awd", "55 quattro:electric:300::awd"), 3),
        ("Q4 e-tron", "suv", 2021, 2025, 55000, ("40:electric:150::rwd", "50 quattro:electric:220::awd"), 3),
        ("TT", "coupe", 2008, 2023, 50000, ("Coupe 2.0 TFSI:petrol:169:1984", "Coupe 2.0 TFSI quattro:petrol:169:1984:awd"), 1),
        ("A5", "convertible", 2009, 2024, 60000, ("Cabriolet 2.0 TFSI:petrol:140:1984",), 1),
    )),
    "Ford": (5, "WF0", ("Trend", "Titanium", "ST-Line", "Active", "Vignale"), (
        ("Focus", "hatchback", 2008, 2025, 28000, ("1.0 EcoBoost:petrol:92:999:fwd:2012", "1.6:petrol:74:1596:fwd:2008-2016",
                                                 "1.5 EcoBlue:diesel:88:1499:fwd:2018", "1.6 TDCi:diesel:85:1560:fwd:2008-2017"), 6),
        ("Focus", "estate", 2008, 2025, 30000, ("1.0 EcoBoost Wagon:petrol:92:999:fwd:2012", "1.5 EcoBlue Wagon:diesel:88:1499:fwd:2018",
                                               "1.6 TDCi Wagon:diesel:85:1560:fwd:2008-2017"), 6),
        ("Mondeo", "estate", 2008, 2022, 40000, ("2.0 TDCi Wagon:diesel:110:1997", "2.0 Hybrid Wagon:hybrid:137:1999:fwd:2019",
                                                "2.0 TDCi AWD Wagon:diesel:132:1997:awd:2015"), 5),
        ("Kuga", "suv", 2008, 2025, 42000, ("2.0 TDCi AWD:diesel:132:1997:awd", "2.5 PHEV:plug_in_hybrid:165:2488:fwd:2020",
                                           "1.5 EcoBoost:petrol:110:1497:fwd:2013"), 6),
        ("Fiesta", "hatchback", 2008, 2023, 20000, ("1.0 EcoBoost:petrol:74:999:fwd:2013", "1.25:petrol:60:1242:fwd:2008-2017"), 4),
        ("Transit Custom", "van", 2013, 2025, 42000, ("2.0 TDCi 130 hv L2H1:diesel:96:1995:fwd:2016",
                                                      "2.2 TDCi 125 hv L1H1:diesel:92:2198:fwd:2013-2016"), 4),
        ("Ranger", "pickup", 2008, 2025, 50000, ("2.0 EcoBlue 4x4:diesel:125:1996:awd:2019", "3.2 TDCi 4x4:diesel:147:3198:awd:2012-2019"), 2),
        ("Mustang Mach-E", "suv", 2021, 2025, 60000, ("Standard Range RWD:electric:198::rwd", "Extended Range AWD:electric:258::awd"), 2),
        ("S-Max", "mpv", 2008, 2023, 45000, ("2.0 TDCi:diesel:110:1997", "2.5 Hybrid:hybrid:140:2488:fwd:2021"), 2),
        ("Mustang", "coupe", 2015, 2025, 65000, ("5.0 V8 GT Fastback:petrol:330:5038:rwd", "2.3 EcoBoost Fastback:petrol:213:2261:rwd"), 1),
    )),
    "Kia": (5, "U5Y", ("LX", "EX", "Business", "Luxury", "GT-Line"), (
        ("Ceed", "hatchback", 2008, 2025, 27000, ("1.4 T-GDI:petrol:103:1353:fwd:2018", "1.6 CRDi:diesel:94:1582", "1.4 CVVT:petrol:73:1396:fwd:2008-2018"), 5),
        ("Ceed", "estate", 2008, 2025, 29000, ("SW 1.4 T-GDI:petrol:103:1353:fwd:2018", "SW 1.6 GDI PHEV:plug_in_hybrid:104:1580:fwd:2020",
                                             "SW 1.6 CRDi:diesel:94:1582"), 6),
        ("Sportage", "suv", 2008, 2025, 40000, ("1.6 T-GDI AWD:petrol:130:1591:awd:2016", "1.6 T-GDI HEV:hybrid:169:1598:fwd:2022",
                                               "1.6 T-GDI PHEV AWD:plug_in_hybrid:195:1598:awd:2022", "2.0 CRDi AWD:diesel:100:1995:awd:2008-2021"), 7),
        ("Niro", "suv", 2017, 2025, 36000, ("1.6 GDI Hybrid:hybrid:104:1580", "1.6 GDI PHEV:plug_in_hybrid:104:1580:fwd:2018",
                                           "e-Niro 64 kWh:electric:150::fwd:2019"), 6),
        ("Rio", "hatchback", 2008, 2023, 19000, ("1.2 CVVT:petrol:62:1248", "1.0 T-GDI:petrol:74:998:fwd:2017"), 3),
        ("EV6", "suv", 2021, 2025, 55000, ("77 kWh RWD:electric:168::rwd", "77 kWh AWD:electric:239::awd"), 3),
        ("Sorento", "suv", 2010, 2025, 60000, ("2.2 CRDi AWD:diesel:147:2151:awd", "1.6 T-GDI PHEV AWD:plug_in_hybrid:195:1598:awd:2021"), 2),
        ("XCeed", "suv", 2020, 2025, 31000, ("1.4 T-GDI:petrol:103:1353", "1.6 GDI PHEV:plug_in_hybrid:104:1580"), 3),
    )),
    "Hyundai": (4, "TMA", ("Comfort", "Style", "Premium", "Classic", "N Line"), (
        ("i30", "hatchback", 2008, 2025, 27000, ("1.4 T-GDI:petrol:103:1353:fwd:2017", "1.6 CRDi:diesel:81:1582", "1.0 T-GDI:petrol:88:998:fwd:2017"), 5),
        ("i30", "estate", 2008, 2025, 29000, ("Wagon 1.4 T-GDI:petrol:103:1353:fwd:2017", "Wagon 1.6 CRDi:diesel:81:1582"), 5),
        ("Tucson", "suv", 2015, 2025, 42000, ("1.6 T-GDI 4WD:petrol:130:1591:awd", "1.6 T-GDI HEV:hybrid:169:1598:fwd:2021",
                                             "1.6 T-GDI PHEV 4WD:plug_in_hybrid:195:1598:awd:2021", "2.0 CRDi 4WD:diesel:100:1995:awd:2015-2020"), 6),
        ("Kona", "suv", 2018, 2025, 33000, ("Electric 64 kWh:electric:150::fwd", "1.6 Hybrid:hybrid:104:1580:fwd:2019", "1.0 T-GDI:petrol:88:998"), 5),
        ("Ioniq", "hatchback", 2016, 2022, 34000, ("Hybrid:hybrid:104:1580", "Plug-in:plug_in_hybrid:104:1580:fwd:2017",
                                                  "Electric:electric:100::fwd"), 4),
        ("Ioniq 5", "suv", 2021, 2025, 55000, ("77 kWh RWD:electric:168::rwd", "77 kWh AWD:electric:239::awd"), 3),
        ("i20", "hatchback", 2009, 2025, 20000, ("1.25:petrol:62:1248", "1.0 T-GDI:petrol:74:998:fwd:2016"), 3),
        ("Santa Fe", "suv", 2008, 2025, 60000, ("2.2 CRDi 4WD:diesel:147:2199:awd", "1.6 T-GDI PHEV 4WD:plug_in_hybrid:195:1598:awd:2021"), 2),
    )),
    "Nissan": (4, "SJN", ("Visia", "Acenta", "N-Connecta", "Tekna", "Tekna+"), (
        ("Qashqai", "suv", 2008, 2025, 35000, ("1.3 DIG-T:petrol:103:1332:fwd:2019", "1.5 dCi:diesel:81:1461:fwd:2008-2021",
                                              "1.6 dCi 4x4:diesel:96:1598:awd:2011-2018", "1.5 e-Power:hybrid:140:1497:fwd:2022"), 9),
        ("Leaf", "hatchback", 2011, 2025, 38000, ("24 kWh:electric:80::fwd:2011-2015", "30 kWh:electric:80::fwd:2016-2017",
                                                 "40 kWh:electric:110::fwd:2018", "e+ 62 kWh:electric:160::fwd:2019"), 6),
        ("X-Trail", "suv", 2008, 2025, 48000, ("1.6 dCi 4x4:diesel:96:1598:awd", "1.5 e-Power e-4ORCE:hybrid:157:1497:awd:2023"), 4),
        ("Micra", "hatchback", 2008, 2023, 18000, ("1.2:petrol:59:1198", "1.0 IG-T:petrol:68:999:fwd:2019"), 3),
        ("Juke", "suv", 2010, 2025, 27000, ("1.6:petrol:69:1598:fwd:2010-2019", "1.0 DIG-T:petrol:84:999:fwd:2020"), 3),
        ("Navara", "pickup", 2008, 2022, 45000, ("2.3 dCi 4x4:diesel:140:2298:awd:2016", "2.5 dCi 4x4:diesel:140:2488:awd:2008-2015"), 2),
    )),
    "Peugeot": (3, "VF3", ("Active", "Allure", "GT", "GT Line"), (
        ("308", "hatchback", 2008, 2025, 30000, ("1.2 PureTech:petrol:96:1199:fwd:2014", "1.6 BlueHDi:diesel:88:1560",
                                                 "1.6 Hybrid:plug_in_hybrid:133:1598:fwd:2022"), 4),
        ("308", "estate", 2008, 2025, 32000, ("SW 1.2 PureTech:petrol:96:1199:fwd:2014", "SW 1.5 BlueHDi:diesel:96:1499:fwd:2018"), 5),
        ("3008", "suv", 2010, 2025, 40000, ("1.2 PureTech:petrol:96:1199:fwd:2017", "Hybrid4 300 AWD:plug_in_hybrid:220:1598:awd:2020",
                                           "1.6 BlueHDi:diesel:88:1560"), 5),
        ("208", "hatchback", 2012, 2025, 22000, ("1.2 PureTech:petrol:74:1199", "e-208 50 kWh:electric:100::fwd:2020"), 4),
        ("508", "estate", 2011, 2025, 45000, ("SW 2.0 BlueHDi:diesel:120:1997", "SW Hybrid 225:plug_in_hybrid:165:1598:fwd:2020"), 3),
        ("5008", "mpv", 2010, 2025, 45000, ("1.2 PureTech:petrol:96:1199:fwd:2017", "1.5 BlueHDi:diesel:96:1499:fwd:2018",
                                           "1.6 HDi:diesel:82:1560:fwd:2010-2016"), 3),
        ("Partner", "van", 2008, 2025, 28000, ("1.6 BlueHDi:diesel:73:1560", "e-Partner:electric:100::fwd:2021"), 2),
        ("Expert", "van", 2016, 2025, 38000, ("2.0 BlueHDi:diesel:110:1997",), 2),
    )),
    "Opel": (3, "W0L", ("Enjoy", "Innovation", "Elegance", "GS Line", "Edition"), (
        ("Astra", "hatchback", 2008, 2025, 28000, ("1.4 Turbo:petrol:103:1364", "1.6 CDTI:diesel:81:1598:fwd:2013-2019",
                                                  "1.2 Turbo:petrol:96:1199:fwd:2020"), 4),
        ("Astra", "estate", 2008, 2025, 30000, ("Sports Tourer 1.4 Turbo:petrol:103:1364", "Sports Tourer 1.6 CDTI:diesel:81:1598:fwd:2013-2019",
                                               "Sports Tourer 1.5 Diesel:diesel:90:1496:fwd:2020"), 5),
        ("Insignia", "estate", 2008, 2022, 40000, ("Sports Tourer 2.0 CDTI:diesel:125:1956", "Sports Tourer 2.0 CDTI 4x4:diesel:125:1956:awd",
                                                  "Sports Tourer 1.5 Turbo:petrol:121:1490:fwd:2017"), 4),
        ("Corsa", "hatchback", 2008, 2025, 20000, ("1.2:petrol:51:1229", "Corsa-e 50 kWh:electric:100::fwd:2020"), 4),
        ("Mokka", "suv", 2012, 2025, 28000, ("1.4 Turbo 4x4:petrol:103:1364:awd:2012-2019", "Mokka-e:electric:100::fwd:2021"), 3),
        ("Grandland", "suv", 2018, 2025, 38000, ("1.2 Turbo:petrol:96:1199", "Hybrid4 AWD:plug_in_hybrid:220:1598:awd:2020"), 3),
        ("Zafira", "mpv", 2008, 2019, 33000, ("Tourer 2.0 CDTI:diesel:125:1956", "Tourer 1.6 CNG Turbo:gas:110:1598"), 2),
        ("Vivaro", "van", 2008, 2025, 38000, ("1.6 CDTI:diesel:88:1598:fwd:2015-2019", "2.0 Diesel:diesel:106:1997:fwd:2020"), 2),
    )),
    "Mazda": (3, "JMZ", ("Premium", "Sport", "Luxury", "Optimum", "Homura"), (
        ("3", "hatchback", 2008, 2025, 29000, ("2.0 Skyactiv-G:petrol:88:1998", "2.0 Skyactiv-X:petrol:132:1998:fwd:2020",
                                                   "1.5 Skyactiv-D:diesel:77:1499:fwd:2016-2018"), 5),
        ("6", "estate", 2008, 2024, 40000, ("Wagon 2.0 Skyactiv-G:petrol:121:1998", "Wagon 2.2 Skyactiv-D:diesel:110:2191",
                                                "Wagon 2.5 Skyactiv-G AWD:petrol:143:2488:awd:2019"), 5),
        ("CX-5", "suv", 2012, 2025, 42000, ("2.0 Skyactiv-G:petrol:121:1998", "2.2 Skyactiv-D AWD:diesel:129:2191:awd",
                                           "2.5 Skyactiv-G AWD:petrol:143:2488:awd:2018"), 6),
        ("CX-30", "suv", 2020, 2025, 34000, ("2.0 Skyactiv-X AWD:petrol:137:1998:awd", "2.0 Skyactiv-G:petrol:90:1998"), 3),
        ("MX-5", "convertible", 2008, 2025, 38000, ("1.5 Skyactiv-G:petrol:97:1496:rwd:2015", "2.0 Skyactiv-G:petrol:135:1998:rwd"), 2),
        ("CX-60", "suv", 2022, 2025, 60000, ("2.5 PHEV AWD:plug_in_hybrid:241:2488:awd", "3.3 e-Skyactiv D AWD:diesel:187:3283:awd:2023"), 2),
    )),
    "Tesla": (2, "5YJ", ("", "", "Performance"), (
        ("Model 3", "sedan", 2019, 2025, 48000, ("Standard Range Plus:electric:208::rwd", "Long Range AWD:electric:324::awd",
                                                 "RWD:electric:208::rwd:2022"), 8),
        ("Model Y", "suv", 2021, 2025, 52000, ("Long Range AWD:electric:378::awd", "RWD:electric:220::rwd:2022"), 8),
        ("Model S", "sedan", 2013, 2025, 95000, ("85D:electric:285::awd:2013-2016", "Long Range:electric:493::awd:2019",
                                                 "90D:electric:311::awd:2016-2019"), 2),
        ("Model X", "suv", 2016, 2025, 110000, ("100D:electric:386::awd:2017-2019", "Long Range:electric:493::awd:2020"), 1),
    )),
    "Renault": (2, "VF1", ("Zen", "Intens", "Limited", "Techno", "Business"), (
        ("Clio", "hatchback", 2008, 2025, 20000, ("0.9 TCe:petrol:66:898:fwd:2013-2019", "1.0 TCe:petrol:67:999:fwd:2020",
                                                 "E-Tech Hybrid:hybrid:105:1598:fwd:2021", "1.5 dCi:diesel:66:1461"), 4),
        ("Megane", "estate", 2008, 2023, 29000, ("Sport Tourer 1.3 TCe:petrol:103:1332:fwd:2019",
                                                "Sport Tourer 1.5 dCi:diesel:81:1461", "Sport Tourer E-Tech Plug-in:plug_in_hybrid:117:1598:fwd:2021"), 4),
        ("Captur", "suv", 2013, 2025, 27000, ("1.3 TCe:petrol:96:1332:fwd:2019", "E-Tech Plug-in:plug_in_hybrid:117:1598:fwd:2021",
                                             "0.9 TCe:petrol:66:898:fwd:2013-2019"), 4),
        ("Kadjar", "suv", 2015, 2022, 30000, ("1.3 TCe:petrol:103:1332:fwd:2019", "1.5 dCi:diesel:81:1461"), 2),
        ("Zoe", "hatchback", 2013, 2024, 33000, ("R110 52 kWh:electric:80::fwd:2019", "Q90 41 kWh:electric:65::fwd:2017-2019",
                                                "R240 22 kWh:electric:65::fwd:2013-2016"), 3),
        ("Trafic", "van", 2008, 2025, 40000, ("2.0 dCi:diesel:110:1997:fwd:2019", "1.6 dCi:diesel:88:1598:fwd:2014-2019",
                                             "2.0 dCi 115:diesel:84:1995:fwd:2008-2014"), 2),
        ("Kangoo", "van", 2008, 2025, 26000, ("1.5 dCi:diesel:66:1461", "Z.E. 33 kWh:electric:44::fwd:2017-2021"), 2),
    )),
    "Seat": (2, "VSS", ("Reference", "Style", "Xcellence", "FR"), (
        ("Leon", "hatchback", 2008, 2025, 29000, ("1.5 TSI:petrol:96:1498:fwd:2018", "1.4 TSI:petrol:92:1395:fwd:2012-2018",
                                                 "2.0 TDI:diesel:110:1968"), 4),
        ("Leon", "estate", 2014, 2025, 31000, ("ST 1.5 TSI:petrol:96:1498:fwd:2018", "ST 2.0 TDI 4Drive:diesel:110:1968:awd",
                                              "Sportstourer 1.4 e-Hybrid:plug_in_hybrid:150:1395:fwd:2021"), 4),
        ("Ibiza", "hatchback", 2008, 2025, 19000, ("1.0 TSI:petrol:70:999:fwd:2017", "1.2 TSI:petrol:66:1197:fwd:2010-2017"), 3),
        ("Ateca", "suv", 2016, 2025, 35000, ("1.5 TSI:petrol:110:1498:fwd:2018", "2.0 TDI 4Drive:diesel:110:1968:awd"), 3),
        ("Tarraco", "suv", 2019, 2025, 45000, ("2.0 TDI 4Drive:diesel:140:1968:awd", "1.4 e-Hybrid:plug_in_hybrid:180:1395:fwd:2021"), 2),
        ("Alhambra", "mpv", 2008, 2020, 42000, ("2.0 TDI:diesel:110:1968", "1.4 TSI:petrol:110:1395"), 2),
    )),
    "Honda": (2, "SHH", ("Comfort", "Elegance", "Executive", "Sport"), (
        ("Civic", "hatchback", 2008, 2025, 30000, ("1.0 VTEC Turbo:petrol:95:988:fwd:2017", "1.8 i-VTEC:petrol:104:1798:fwd:2008-2016",
                                                  "2.0 e:HEV:hybrid:135:1993:fwd:2022", "1.6 i-DTEC:diesel:88:1597:fwd:2013-2019"), 5),
        ("CR-V", "suv", 2008, 2025, 45000, ("2.0 i-VTEC AWD:petrol:114:1997:awd:2008-2018", "2.0 Hybrid AWD:hybrid:135:1993:awd:2019",
                                           "1.6 i-DTEC AWD:diesel:118:1597:awd:2015-2018"), 5),
        ("Jazz", "hatchback", 2008, 2025, 24000, ("1.4 i-VTEC:petrol:73:1339:fwd:2008-2015", "1.3 i-VTEC:petrol:75:1318:fwd:2015-2020",
                                                 "1.5 e:HEV:hybrid:80:1498:fwd:2020"), 4),
        ("Accord", "estate", 2008, 2015, 38000, ("Tourer 2.2 i-DTEC:diesel:110:2199", "Tourer 2.0 i-VTEC:petrol:115:1997"), 3),
        ("HR-V", "suv", 2015, 2025, 32000, ("1.5 i-VTEC:petrol:96:1498", "1.5 e:HEV:hybrid:96:1498:fwd:2021"), 3),
    )),
    "Mitsubishi": (2, "JMB", ("Invite", "Intense", "Instyle", "Business"), (
        ("Outlander", "suv", 2008, 2025, 45000, ("2.0 PHEV 4WD:plug_in_hybrid:149:1998:awd:2014-2018",
                                                 "2.4 PHEV 4WD:plug_in_hybrid:165:2360:awd:2019", "2.2 DI-D 4WD:diesel:110:2268:awd:2008-2016"), 8),
        ("ASX", "suv", 2010, 2025, 27000, ("1.6 MIVEC:petrol:86:1590", "2.2 DI-D 4WD:diesel:110:2268:awd:2013-2019"), 4),
        ("Space Star", "hatchback", 2013, 2025, 15000, ("1.2 MIVEC:petrol:59:1193",), 3),
        ("L200", "pickup", 2008, 2025, 42000, ("2.4 DI-D 4WD:diesel:133:2442:awd", "2.5 DI-D 4WD:diesel:131:2477:awd:2008-2015"), 3),
        ("Eclipse Cross", "suv", 2018, 2025, 38000, ("1.5 MIVEC Turbo:petrol:120:1499", "2.4 PHEV 4WD:plug_in_hybrid:138:2360:awd:2021"), 3),
    )),
    "Citroën": (2, "VF7", ("Feel", "Shine", "Live", "Business"), (
        ("C4", "hatchback", 2008, 2025, 27000, ("1.2 PureTech:petrol:96:1199:fwd:2015", "1.6 BlueHDi:diesel:88:1560",
                                               "ë-C4 50 kWh:electric:100::fwd:2021"), 4),
        ("C5 Aircross", "suv", 2019, 2025, 38000, ("1.2 PureTech:petrol:96:1199", "Hybrid 225:plug_in_hybrid:165:1598:fwd:2020",
                                                   "1.5 BlueHDi:diesel:96:1499"), 4),
        ("Berlingo", "mpv", 2008, 2025, 28000, ("1.5 BlueHDi:diesel:96:1499:fwd:2019", "1.6 HDi:diesel:66:1560:fwd:2008-2018",
                                               "ë-Berlingo:electric:100::fwd:2021"), 4),
        ("C3", "hatchback", 2008, 2025, 19000, ("1.2 PureTech:petrol:61:1199:fwd:2013", "1.4 VTi:petrol:70:1397:fwd:2008-2013"), 3),
        ("Grand C4 Picasso", "mpv", 2008, 2022, 35000, ("1.6 BlueHDi:diesel:88:1560:fwd:2014", "2.0 HDi:diesel:110:1997:fwd:2008-2013"), 3),
        ("Jumpy", "van", 2008, 2025, 36000, ("2.0 BlueHDi:diesel:110:1997:fwd:2016", "2.0 HDi:diesel:94:1997:fwd:2008-2016"), 2),
    )),
}

# Body-type details: (doors, seats choices).
BODY_DOORS = {
    "hatchback": ((5, 5, 5, 3), (5,)), "sedan": ((4,), (5,)), "estate": ((5,), (5,)), "suv": ((5,), (5, 5, 5, 7)),
    "mpv": ((5,), (5, 7, 7)), "coupe": ((2,), (4,)), "convertible": ((2,), (2, 4)), "van": ((4, 5), (2, 3, 3)),
    "pickup": ((4,), (5,)),
}

# The picture pool is drawn in these colours; a car's colour name maps to one of them.
POOL_COLOURS = {"white": "#f3f4f6", "black": "#111827", "grey": "#9ca3af", "blue": "#1e3a8a", "red": "#b91c1c"}
COLOURS = (  # (colour as listed, pool colour, weight)
    ("Valkoinen", "white", 18), ("Valkoinen helmiäis", "white", 5), ("Musta metallic", "black", 17),
    ("Musta", "black", 4), ("Harmaa metallic", "grey", 18), ("Hopea metallic", "grey", 13),
    ("Sininen metallic", "blue", 11), ("Tummansininen metallic", "blue", 5), ("Punainen", "red", 7),
    ("Punainen metallic", "red", 2),
)
SHOTS = 3  # pictures per body type and colour in the pool
IMAGE_SIZE = (960, 720)

BODY_FI = {"hatchback": "viistoperä", "sedan": "sedan", "estate": "farmari", "suv": "katumaasturi",
           "mpv": "tila-auto", "coupe": "coupé", "convertible": "avoauto", "van": "pakettiauto", "pickup": "avolava"}
BODY_EN = {"hatchback": "hatchback", "sedan": "saloon", "estate": "estate", "suv": "SUV", "mpv": "people carrier",
           "coupe": "coupé", "convertible": "convertible", "van": "van", "pickup": "pickup"}
FUEL_FI = {"petrol": "bensiini", "diesel": "diesel", "hybrid": "hybridi", "plug_in_hybrid": "lataushybridi",
           "electric": "täyssähkö", "gas": "kaasu"}

# How likely a feature is depends on its group (see _Generator.feature_codes); unknown codes are "other".
FEATURE_GROUPS = {
    "heat_pump": "heat_pump", "type2_cable": "cable", "engine_heater": "block_heater",
    "parking_heater": "parking_heater", "tow_bar": "tow_bar", "power_tailgate": "tailgate", "cruise_control": "cruise",
    **{c: "basic" for c in ("heated_seats", "winter_tyres", "service_book", "two_keys", "climate_control")},
    **{c: "modern" for c in ("adaptive_cruise", "lane_assist", "blind_spot", "apple_carplay", "digital_cockpit",
                             "led_headlights", "keyless", "reversing_camera")},
    **{c: "premium" for c in ("leather", "electric_seats", "head_up", "premium_audio", "panorama_roof",
                              "camera_360")},
}
STATUS_WEIGHTS = (("available", 80), ("reserved", 6), ("sold", 8), ("draft", 6))
FEATURED_SHARE = 0.004
PUBLISHED_WINDOW_DAYS = 120
YEAR_WEIGHTS = {  # model years, weighted to 2015-2021
    2008: 1, 2009: 1, 2010: 2, 2011: 2, 2012: 3, 2013: 4, 2014: 5, 2015: 8, 2016: 9, 2017: 10, 2018: 11,
    2019: 11, 2020: 10, 2021: 9, 2022: 6, 2023: 4, 2024: 3, 2025: 2,
}
PLATE_LETTERS = "ABCDEFGHIJKLMNOPRSTUVXYZ"  # no Q or W on Finnish plates
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
VIN_YEAR = "ABCDEFGHJKLMNPRSTVWXY123456789"  # position 10: 2010 = A ... 2030 = Y, 2001 = 1 ... 2009 = 9

CAR_COLUMNS = (
    "id", "brand_id", "model_id", "variant", "title", "slug", "model_year", "first_registration", "price_cents",
    "vat_deductible", "mileage_km", "fuel", "transmission", "drive", "body_type", "power_kw", "displacement_cc",
    "colour", "doors", "seats", "registration_number", "vin", "description_fi", "description_en", "status",
    "featured", "published_at", "sold_at", "search_names", "search_equipment", "created_at", "updated_at",
)
IMAGE_COLUMNS = ("car_id", "position", "path", "width", "height", "alt_fi", "alt_en", "created_at")
PRICE_COLUMNS = ("car_id", "old_price_cents", "new_price_cents", "changed_at")


@dataclass(frozen=True)
class Engine:
    label: str
    fuel: str
    kw: int
    cc: int | None
    drive: str
    first: int
    last: int


@dataclass(frozen=True)
class Offer:
    """One buyable combination: a model with its body type, engines and years."""

    brand: str
    vin_code: str
    trims: tuple[str, ...]
    model: str
    body: str
    first: int
    last: int
    new_price: int
    engines: tuple[Engine, ...]
    median_kw: float


def _engine(spec: str, first: int, last: int) -> Engine:
    parts = spec.split(":")
    if parts[1] not in FUELS:  # a label with a colon in it, e.g. Honda's "e:HEV"
        parts[0:2] = [f"{parts[0]}:{parts[1]}"]
    label, fuel, kw, cc = parts[0], parts[1], int(parts[2]), (int(parts[3]) if parts[3] else None)
    drive = parts[4] if len(parts) > 4 and parts[4] else "fwd"
    e_first, e_last = first, last
    if len(parts) > 5:
        years = parts[5].split("-")
        e_first = int(years[0])
        e_last = int(years[1]) if len(years) > 1 else last
    return Engine(label, fuel, kw, cc, drive, max(first, e_first), min(last, e_last))


def _offers() -> tuple[list[Offer], list[float]]:
    offers, weights = [], []
    for brand, (brand_weight, vin_code, trims, models) in CATALOGUE.items():
        model_total = sum(m[6] for m in models)
        for name, body, first, last, price, specs, popularity in models:
            engines = tuple(_engine(s, first, last) for s in specs)
            kws = sorted(e.kw for e in engines)
            offers.append(Offer(brand, vin_code, trims, name, body, first, last, price, engines, kws[len(kws) // 2]))
            weights.append(brand_weight * popularity / model_total)
    return offers, weights


# --- descriptions -------------------------------------------------------------------------------------------
OPENERS = (
    ("{title} – siisti ja hyvin pidetty {body_fi}.", "{title} – a tidy, well-kept {body_en}."),
    ("Tervetuloa tutustumaan: {brand} {model}, vuosimalli {year}.", "Come and see this {year} {brand} {model}."),
    ("Luotettava {brand} {model} {fuel_fi}moottorilla arkeen ja matkoille.",
     "A dependable {brand} {model} for daily driving and long trips."),
    ("Vähän ajettu {body_fi}, {km} km mittarissa.", "A {body_en} with only {km} km on the clock."),  # low mileage
    ("{brand} {model} {variant} odottaa uutta omistajaa.", "This {brand} {model} {variant} is waiting for a new owner."),
)
FUEL_LINES = {
    "electric": ("Akun kunto tarkastettu (SoH {soh} %), latausteho riittää pitkillekin matkoille.",
                 "Battery health checked (SoH {soh} %); charging is quick enough for long trips."),
    "plug_in_hybrid": ("Lataushybridi: lyhyet arkimatkat sähköllä, pitkät matkat ilman latausstressiä.",
                       "A plug-in hybrid: short daily trips on electricity, long journeys without range worries."),
    "hybrid": ("Hybridi kuluttaa kaupunkiajossa maltillisesti ja on hiljainen liikkeelle lähtiessä.",
               "The hybrid is economical in town and quiet when pulling away."),
    "diesel": ("Taloudellinen diesel sopii hyvin pitkille maantiematkoille.",
               "The economical diesel suits long motorway trips."),
    "petrol": ("Bensiinimoottori on kevyt ja käy talvellakin varmasti.",
               "The petrol engine is light and starts reliably in winter."),
    "gas": ("Kaasuautolla ajat edullisesti, ja bensatankki on varalla.",
            "Running on gas is cheap, with a petrol tank as a back-up."),
}
HISTORY = (
    ("Suomi-auto, merkkihuollettu ja huoltokirja tallessa.", "A Finnish-market car, dealer-serviced with a service book."),
    ("Yksi omistaja, savuton ja lemmikitön auto.", "One owner, non-smoker, no pets."),
    ("Tuontiauto Saksasta, huoltohistoria selvitetty.", "Imported from Germany, service history checked."),
    ("Katsastettu ja huollettu ennen myyntiä.", "Inspected and serviced before sale."),
    ("Jakohihna vaihdettu, kuitit tallessa.", "Timing belt replaced, receipts kept."),
)
CLOSERS = (
    ("Rahoitus onnistuu jopa ilman käsirahaa, ja vaihtoauto käy maksuksi.",
     "Financing available, even without a down payment, and trade-ins are welcome."),
    ("Varaa koeajo – autot ovat nähtävillä liikkeessämme.", "Book a test drive – the cars are on display at our shop."),
    ("Kysy lisää, kerromme mielellämme!", "Ask us anything, we are happy to help!"),
)


def _lower_first(name: str) -> str:
    return name[0].lower() + name[1:] if len(name) > 1 and name[1].islower() else name


def _join(words: list[str], last_word: str) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last_word} {words[-1]}"


# --- the generator ------------------------------------------------------------------------------------------
class _Generator:
    def __init__(self, rng: random.Random, features: list, brand_ids: dict, model_ids: dict,
                 used_plates: set[str], used_vins: set[str], now: datetime) -> None:
        self.rng = rng
        self.features = features  # Feature rows, in a stable order
        self.brand_ids = brand_ids
        self.model_ids = model_ids
        self.used_plates = used_plates
        self.used_vins = used_vins
        self.now = now
        self.offers, weights = _offers()
        self.offer_cum = _cumulative(weights)
        self.colour_cum = _cumulative([c[2] for c in COLOURS])
        self.status_cum = _cumulative([w for _, w in STATUS_WEIGHTS])
        self.feature_groups = [(i, FEATURE_GROUPS.get(f.code, "other")) for i, f in enumerate(features)]

    def plate(self) -> str:
        rng = self.rng
        while True:
            digits = rng.choice((rng.randint(1, 9), rng.randint(10, 99), rng.randint(100, 999), rng.randint(100, 999),
                                 rng.randint(100, 999)))
            plate = "".join(rng.choices(PLATE_LETTERS, k=3)) + f"-{digits}"
            if plate not in self.used_plates:
                self.used_plates.add(plate)
                return plate

    def vin(self, offer: Offer, year: int) -> str:
        rng = self.rng
        year_code = VIN_YEAR[(year - 2010) % 30] if year >= 2010 else str(year - 2000)
        while True:
            vin = (offer.vin_code + "".join(rng.choices(VIN_CHARS, k=6)) + year_code
                   + rng.choice(VIN_CHARS) + f"{int(rng.random() * 1_000_000):06d}")
            if vin not in self.used_vins:
                self.used_vins.add(vin)
                return vin

    def year_for(self, offer: Offer, engine: Engine) -> int:
        low, high = engine.first, min(engine.last, self.now.year)
        for _ in range(8):
            year = _YEARS[_pick(self.rng, _YEAR_CUM)]
            if low <= year <= high:
                return year
        return self.rng.randint(low, max(low, high))

    def feature_codes(self, fuel: str, year: int, premium: float, body: str, drive: str) -> list[int]:
        """4-14 features: newer, pricier cars have more; some only fit some cars."""
        rng = self.rng
        modern = min(1.0, max(0.0, (year - 2010) / 12))
        count = max(4, min(14, round(4 + 6 * modern + 4 * premium + rng.gauss(0, 1.5))))
        electric = fuel == "electric"
        weights = {
            "heat_pump": 8.0 if electric else 0.0,
            "cable": 8.0 if electric else 6.0 if fuel == "plug_in_hybrid" else 0.0,
            "block_heater": 0.0 if electric else 4.0, "parking_heater": 0.0 if electric else 1.5,
            "basic": 6.0, "modern": 0.3 + 4 * modern, "premium": 0.3 + 4 * premium,
            "tow_bar": 5.0 if body in ("estate", "suv", "van", "pickup") or drive == "awd" else 1.0,
            "tailgate": 3.0 if body in ("estate", "suv") else 0.1, "cruise": 4.0 * (1 - modern) + 0.5, "other": 1.0,
        }
        exponent = {group: 1.0 / w for group, w in weights.items() if w > 0}
        random_ = rng.random
        # Weighted sampling without replacement (Efraimidis-Spirakis): the largest u^(1/w) keys win.
        keyed = [(random_() ** exponent[group], i) for i, group in self.feature_groups if group in exponent]
        keyed.sort(reverse=True)
        return sorted(i for _, i in keyed[:count])

    def car(self, car_id: int) -> tuple[tuple, list[tuple], list[tuple], list[tuple]]:
        rng = self.rng
        offer = self.offers[_pick(rng, self.offer_cum)]
        now = self.now
        candidates = [e for e in offer.engines if e.first <= min(e.last, now.year)]
        engine = rng.choice(candidates)
        year = self.year_for(offer, engine)
        trim = rng.choice(offer.trims)
        variant = " ".join(p for p in (engine.label, trim) if p)
        fuel = engine.fuel
        if fuel in ("electric", "hybrid", "plug_in_hybrid"):
            transmission = "automatic"
        else:
            p_auto = 0.25 + 0.04 * (year - 2008) + (0.3 if offer.new_price >= 45000 else 0.0)
            transmission = "automatic" if rng.random() < p_auto else "manual"
        if transmission == "automatic" and fuel not in ("electric", "hybrid", "plug_in_hybrid"):
            variant += " aut."
        title = f"{offer.brand} {offer.model} {variant}"[:200]

        month = rng.randint(1, 12) if year < now.year else rng.randint(1, now.month)
        first_registration = date(year, month, rng.randint(1, 28))
        if first_registration > now.date():
            first_registration = now.date() - timedelta(days=rng.randint(1, 20))
        age = max(0.1, (now.date() - first_registration).days / 365.25)
        per_year = max(6000.0, rng.gauss(17500, 4500))
        mileage = max(50, int(age * per_year * rng.uniform(0.8, 1.2)) // 100 * 100)
        if fuel == "electric":
            mileage = int(mileage * 0.85) // 100 * 100

        premium_kw = engine.kw / offer.median_kw
        new_price = offer.new_price * math.sqrt(premium_kw) * (1 - 0.015 * max(0, 2024 - year))
        yearly = 0.89 if fuel == "electric" else 0.93
        value = new_price * 0.88 * yearly ** age
        expected = age * 17500
        value *= min(1.15, max(0.7, 1 - (mileage - expected) / 400_000))
        value *= rng.uniform(0.93, 1.07)
        price_eur = max(1500, int(round(value / 100.0)) * 100)
        premium = min(1.0, max(0.0, (offer.new_price - 20000) / 50000 + (trim == offer.trims[-1]) * 0.2))

        colour_fi, colour_key, _w = COLOURS[_pick(rng, self.colour_cum)]
        doors = rng.choice(BODY_DOORS[offer.body][0])
        seats = rng.choice(BODY_DOORS[offer.body][1])
        feature_ids = self.feature_codes(fuel, year, premium, offer.body, engine.drive)
        chosen = [self.features[i] for i in feature_ids]

        status = STATUS_WEIGHTS[_pick(rng, self.status_cum)][0]
        published = now - timedelta(seconds=rng.uniform(0, PUBLISHED_WINDOW_DAYS * 86400))
        created = published - timedelta(hours=rng.uniform(0.5, 72))
        published_at = None if status == "draft" else published
        sold_at = None
        if status == "sold":
            sold_at = published + (now - published) * rng.uniform(0.1, 1.0)
        updated = sold_at or published
        featured = status == "available" and rng.random() < FEATURED_SHARE
        vat = rng.random() < (0.8 if offer.body in ("van", "pickup") else 0.2 if fuel == "electric" else 0.03)

        fmt = {
            "title": title, "brand": offer.brand, "model": offer.model, "variant": variant, "year": year,
            "body_fi": BODY_FI[offer.body], "body_en": BODY_EN[offer.body], "fuel_fi": FUEL_FI[fuel],
            "km": f"{mileage:,}".replace(",", "\u00a0"), "soh": rng.randint(86, 98),
        }
        low_mileage = mileage < age * 12000
        o_fi, o_en = rng.choice(OPENERS if low_mileage else OPENERS[:3] + OPENERS[4:])
        h_fi, h_en = rng.choice(HISTORY if fuel != "electric" else HISTORY[:4])  # no timing belt in an EV
        c_fi, c_en = rng.choice(CLOSERS)
        l_fi, l_en = FUEL_LINES[fuel]
        highlights = rng.sample(chosen, min(3, len(chosen)))
        eq_fi = "Varusteina mm. " + _join([_lower_first(f.name_fi) for f in highlights], "ja") + "."
        eq_en = "Equipment includes " + _join([_lower_first(f.name_en) for f in highlights], "and") + "."
        description_fi = f"{o_fi.format(**fmt)} {l_fi.format(**fmt)} {eq_fi}\n\n{h_fi} {c_fi}"
        description_en = f"{o_en.format(**fmt)} {l_en.format(**fmt)} {eq_en}\n\n{h_en} {c_en}"

        car_row = (
            car_id, self.brand_ids[offer.brand], self.model_ids[(offer.brand, offer.model)], variant, title,
            slugify(title), year, first_registration, price_eur * 100, vat, mileage, fuel, transmission, engine.drive,
            offer.body, engine.kw, engine.cc, colour_fi, doors, seats, self.plate(),
            self.vin(offer, year) if rng.random() < 0.9 else None, description_fi, description_en, status, featured,
            published_at, sold_at, f"{offer.brand} {offer.model}",
            " ".join(f"{f.name_fi} {f.name_en}" for f in chosen), created, updated,
        )
        feature_rows = [(car_id, f.id) for f in chosen]

        n_images = rng.choices((1, 2, 3), weights=(2, 3, 5))[0]
        image_rows = [
            (car_id, pos, f"demo/{offer.body}-{colour_key}-{pos + 1}", IMAGE_SIZE[0], IMAGE_SIZE[1],
             f"{title}, kuva {pos + 1}"[:250], f"{title}, photo {pos + 1}"[:250], created)
            for pos in range(n_images)
        ]
        price_rows = []
        if published_at is not None and status != "sold" and rng.random() < 0.12:
            # A recent price drop, so that some cards show "price lowered".
            old = (price_eur + rng.choice((500, 1000, 1500, 2000))) * 100
            changed = max(published_at, now - timedelta(days=rng.uniform(1, 50)))
            price_rows.append((car_id, None, old, published_at))
            price_rows.append((car_id, old, price_eur * 100, changed))
        else:
            price_rows.append((car_id, None, price_eur * 100, published_at or created))
        return car_row, feature_rows, image_rows, price_rows


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, cum: list[float]) -> int:
    return bisect.bisect_right(cum, rng.random() * cum[-1])


_YEARS = list(YEAR_WEIGHTS)
_YEAR_CUM = _cumulative(list(YEAR_WEIGHTS.values()))


# --- pictures -----------------------------------------------------------------------------------------------
def pool_paths() -> list[tuple[str, str, str, int]]:
    """(relative stem, body type, colour hex, shot) for every picture in the demo pool."""
    return [(f"demo/{body}-{key}-{shot}", body, hex_, shot)
            for body in BODY_TYPES for key, hex_ in POOL_COLOURS.items() for shot in range(1, SHOTS + 1)]


def _draw_pool_picture(body: str, hex_: str, shot: int) -> dict[str, bytes]:
    img = draw_car(hex_, body, f"Demo · {BODY_FI[body]}", scene=shot - 1, mirror=shot == 2)
    return encode_variants(img)


async def ensure_image_pool(storage: Storage) -> int:
    """Draw and store the missing pool pictures (all three variants each); returns how many were drawn.

    The pool is the only thing uploaded, once: every demo car's image rows reference it, whatever N is.
    """
    present = await storage.sizes("demo/")
    drawn = 0
    for stem, body, hex_, shot in pool_paths():
        if all(f"{stem}-{v}.webp" in present for v in VARIANTS):
            continue
        variants = await asyncio.to_thread(_draw_pool_picture, body, hex_, shot)  # CPU: off the event loop
        await asyncio.gather(*(storage.put(f"{stem}-{v}.webp", data, "image/webp") for v, data in variants.items()))
        drawn += 1
    return drawn


# --- loading ------------------------------------------------------------------------------------------------
BATCH = 10_000
# From this many cars on, the load follows PostgreSQL's bulk-loading advice: the full-text GIN index of cars and
# the foreign keys of the child tables are dropped, and rebuilt (with the same names and definitions) in the same
# transaction. Building the GIN index once costs ~1 s per 20,000 cars, updating it row by row ~10 times that;
# re-adding a foreign key checks all rows in one join instead of one lookup per row. The price: other sessions
# wait for these tables until the load commits, which is fine for a demo data load.
BULK_FROM = 20_000
CHILD_TABLES = ("car_features", "car_images", "car_price_history")


async def _reserve_ids(session: AsyncSession, sequence: str, n: int) -> list[int]:
    """n ids taken from the sequence (unique even if other writers use it meanwhile)."""
    rows = await session.execute(text(f"SELECT nextval('{sequence}') FROM generate_series(1, :n)"), {"n": n})
    return [r[0] for r in rows]


async def _drop_for_bulk_load(session: AsyncSession) -> list[str]:
    """Drop the GIN indexes of cars and the foreign keys of its child tables; returns the SQL that restores them."""
    restore: list[str] = []
    indexes = (await session.execute(text(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
        "WHERE i.indrelid = 'cars'::regclass AND am.amname = 'gin'"))).all()
    for name, definition in indexes:
        await session.execute(text(f"DROP INDEX {name}"))
        restore.append(definition)
    keys = (await session.execute(text(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(CAST(:tables AS regclass[]))"), {"tables": list(CHILD_TABLES)})).all()
    for table, name, definition in keys:
        await session.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
        restore.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    return restore


async def _restore(session: AsyncSession, statements: list[str]) -> None:
    if statements:
        await session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for statement in statements:
        await session.execute(text(statement))


def _batch(gen: "_Generator", ids: list[int]) -> tuple[list, list, list, list]:
    cars, car_features, images, prices = [], [], [], []
    for car_id in ids:
        car_row, feature_rows, image_rows, price_rows = gen.car(car_id)
        cars.append(car_row)
        car_features.extend(feature_rows)
        images.extend(image_rows)
        prices.extend(price_rows)
    return cars, car_features, images, prices


async def load_demo(session: AsyncSession, n: int, storage: Storage) -> tuple[int, float]:
    """Add n synthetic cars (with equipment, pictures and price history) and commit; returns (added, seconds)."""
    started = time.perf_counter()
    if n <= 0:
        return 0, 0.0
    # The picture pool is drawn (in threads) and stored while the rows are generated and copied.
    pictures = asyncio.create_task(ensure_image_pool(storage))
    try:
        features = sorted((await ensure_features(session)).values(), key=lambda f: f.id)
        brand_ids: dict[str, int] = {}
        model_ids: dict[tuple[str, str], int] = {}
        for offer in _offers()[0]:
            if (offer.brand, offer.model) not in model_ids:
                brand, model = await ensure_brand_model(session, offer.brand, offer.model)
                brand_ids[offer.brand] = brand.id
                model_ids[(offer.brand, offer.model)] = model.id

        max_id = await session.scalar(text("SELECT coalesce(max(id), 0) FROM cars"))
        rng = random.Random(f"kroi-demo:{max_id}:{n}")
        seed_cars = load_cars()
        used_plates = {c["registration_number"] for c in seed_cars}
        used_vins = {c["vin"] for c in seed_cars if c.get("vin")}
        taken = await session.execute(text(
            "SELECT registration_number, vin FROM cars WHERE deleted_at IS NULL "
            "AND (registration_number IS NOT NULL OR vin IS NOT NULL)"))
        for plate, vin in taken:
            if plate:
                used_plates.add(plate)
            if vin:
                used_vins.add(vin)

        ids = await _reserve_ids(session, "cars_id_seq", n)
        gen = _Generator(rng, features, brand_ids, model_ids, used_plates, used_vins, datetime.now(timezone.utc))
        restore = await _drop_for_bulk_load(session) if n >= BULK_FROM else []
        conn = (await (await session.connection()).get_raw_connection()).driver_connection
        # Generate the next batch in a thread while PostgreSQL ingests this one (batches stay in order, so the
        # random sequence, and therefore the data, is the same as without the overlap).
        chunks = [ids[i:i + BATCH] for i in range(0, n, BATCH)]
        pending = asyncio.create_task(asyncio.to_thread(_batch, gen, chunks[0]))
        for k in range(len(chunks)):
            cars, car_features, images, prices = await pending
            if k + 1 < len(chunks):
                pending = asyncio.create_task(asyncio.to_thread(_batch, gen, chunks[k + 1]))
            await conn.copy_records_to_table("cars", records=cars, columns=CAR_COLUMNS)
            await conn.copy_records_to_table("car_features", records=car_features, columns=("car_id", "feature_id"))
            await conn.copy_records_to_table("car_images", records=images, columns=IMAGE_COLUMNS)
            await conn.copy_records_to_table("car_price_history", records=prices, columns=PRICE_COLUMNS)
        await _restore(session, restore)
        await session.commit()
    finally:
        await pictures
    await _analyze(session)
    return n, time.perf_counter() - started


async def _analyze(session: AsyncSession) -> None:
    """Fresh statistics for the new rows, and a visibility map for cars so facet counts use index-only scans."""
    children = ", ".join(CHILD_TABLES)
    bind = session.bind
    if isinstance(bind, AsyncEngine):
        # VACUUM cannot run inside a transaction block: use a connection of its own in autocommit mode. Its
        # TOAST table (the search vectors) needs no visibility map, so it is skipped (half the work).
        async with bind.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM (ANALYZE, PROCESS_TOAST FALSE) cars"))
            await conn.execute(text(f"ANALYZE {children}"))
    else:
        await session.execute(text(f"ANALYZE cars, {children}"))
        await session.commit()
