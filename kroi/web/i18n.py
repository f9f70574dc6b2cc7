"""Finnish (default) and English texts, and the labels of the inventory vocabularies."""
from __future__ import annotations

LANGUAGES = ("fi", "en")
DEFAULT_LANGUAGE = "fi"
COOKIE = "kroi_lang"

TEXTS: dict[str, tuple[str, str]] = {
    # key: (fi, en)
    "site.tagline": ("Luotettavia käytettyjä autoja Kroilta", "Trustworthy used cars from Kroi"),
    "nav.home": ("Etusivu", "Home"),
    "nav.cars": ("Autot", "Cars"),
    "nav.contact": ("Yhteystiedot", "Contact"),
    "nav.skip": ("Siirry sisältöön", "Skip to content"),
    "nav.language": ("Kieli", "Language"),
    "home.title": ("Kroi Auto Center – käytetyt autot", "Kroi Auto Center – used cars"),
    "home.featured": ("Nostot", "Featured cars"),
    "home.quick_search": ("Pikahaku", "Quick search"),
    "home.by_body": ("Autot korityypeittäin", "Cars by body type"),
    "home.all_cars": ("Katso kaikki autot", "See all cars"),
    "home.hero": ("Löydä seuraava autosi", "Find your next car"),
    "home.hero_text": (
        "Tarkastetut vaihtoautot selkeällä hinnalla. Suodata, vertaa ja kysy – vastaamme nopeasti.",
        "Inspected used cars with clear prices. Filter, compare and ask – we answer quickly.",
    ),
    "home.no_featured": ("Ei nostettuja autoja juuri nyt.", "No featured cars right now."),
    "dealer.contact": ("Ota yhteyttä", "Contact us"),
    "dealer.hours": ("Aukioloajat", "Opening hours"),
    "dealer.phone": ("Puhelin", "Phone"),
    "dealer.email": ("Sähköposti", "E-mail"),
    "dealer.address": ("Osoite", "Address"),
    "dealer.closed": ("suljettu", "closed"),
    "cars.title": ("Vaihtoautot", "Used cars"),
    "cars.filters": ("Rajaa hakua", "Filter"),
    "cars.q": ("Hakusana", "Search"),
    "cars.q_placeholder": ("esim. Toyota hybridi vetokoukku", "e.g. Toyota hybrid tow bar"),
    "cars.brand": ("Merkki", "Make"),
    "cars.model": ("Malli", "Model"),
    "cars.any_brand": ("Kaikki merkit", "All makes"),
    "cars.any_model": ("Kaikki mallit", "All models"),
    "cars.choose_brand_first": ("Valitse ensin merkki", "Choose a make first"),
    "cars.category": ("Korityyppi", "Body type"),
    "cars.fuel": ("Käyttövoima", "Fuel"),
    "cars.transmission": ("Vaihteisto", "Transmission"),
    "cars.drive": ("Vetotapa", "Drive"),
    "cars.price": ("Hinta (€)", "Price (€)"),
    "cars.price_min": ("Hinta vähintään (€)", "Minimum price (€)"),
    "cars.price_max": ("Hinta enintään (€)", "Maximum price (€)"),
    "cars.year": ("Vuosimalli", "Model year"),
    "cars.year_min": ("Vuosimalli alkaen", "Model year from"),
    "cars.year_max": ("Vuosimalli enintään", "Model year to"),
    "cars.mileage_max": ("Ajettu enintään (km)", "Mileage at most (km)"),
    "cars.sort": ("Järjestys", "Sort by"),
    "cars.apply": ("Näytä autot", "Show cars"),
    "cars.reset": ("Tyhjennä rajaukset", "Clear filters"),
    "cars.count_one": ("{n} auto", "{n} car"),
    "cars.count_many": ("{n} autoa", "{n} cars"),
    "cars.empty_title": ("Hakuehdoilla ei löytynyt autoja", "No cars match these filters"),
    "cars.empty_text": (
        "Kokeile väljempiä rajauksia tai tyhjennä haku. Voit myös kysyä meiltä – hankimme toiveautosi.",
        "Try wider filters or clear the search. You can also ask us – we can find the car you want.",
    ),
    "cars.show_more": ("Näytä lisää autoja", "Show more cars"),
    "cars.pages": ("Sivut", "Pages"),
    "cars.page": ("Sivu {n}", "Page {n}"),
    "cars.prev": ("Edellinen", "Previous"),
    "cars.next": ("Seuraava", "Next"),
    "cars.loading": ("Ladataan…", "Loading…"),
    "cars.reserved": ("Varattu", "Reserved"),
    "cars.sold": ("Myyty", "Sold"),
    "cars.vat": ("ALV-vähennyskelpoinen", "VAT deductible"),
    "cars.margin": ("Marginaaliverotettu", "Margin scheme"),
    "cars.results": ("Hakutulokset", "Results"),
    "cars.continued": ("Jatkoa edelliseen", "Continued"),
    "sort.newest": ("Uusimmat ilmoitukset", "Newest listings"),
    "sort.price_asc": ("Halvin ensin", "Price: low to high"),
    "sort.price_desc": ("Kallein ensin", "Price: high to low"),
    "sort.mileage_asc": ("Vähiten ajettu", "Lowest mileage"),
    "sort.year_desc": ("Uusin vuosimalli", "Newest model year"),
    "note.bad_number": ("Arvoa ”{value}” kentässä {field} ei ymmärretty, joten sitä ei käytetty.",
                        "The value “{value}” for {field} was not understood and was ignored."),
    "note.out_of_range": ("Arvo ”{value}” kentässä {field} on sallitun alueen ulkopuolella ja ohitettiin.",
                          "The value “{value}” for {field} is out of range and was ignored."),
    "note.unknown_value": ("Tuntematon valinta ”{value}” kentässä {field} ohitettiin.",
                           "The unknown choice “{value}” for {field} was ignored."),
    "note.swapped": ("Vähimmäis- ja enimmäisarvo kentässä {field} olivat väärin päin, ne vaihdettiin.",
                     "The minimum and maximum for {field} were the wrong way round and were swapped."),
    "note.q_too_long": ("Hakusana oli liian pitkä ja lyhennettiin {n} merkkiin.",
                        "The search text was too long and was shortened to {n} characters."),
    "note.bad_page": ("Sivunumero ”{value}” ei kelpaa, näytetään ensimmäinen sivu.",
                      "The page number “{value}” is not valid; showing the first page."),
    "note.bad_cursor": ("Jatkolinkki oli vanhentunut tai virheellinen, näytetään alusta.",
                        "The continuation link was invalid; showing from the start."),
    "note.model_mismatch": ("Valittu malli ei kuulu valittuun merkkiin, joten mallirajaus poistettiin.",
                            "The chosen model does not belong to the chosen make, so it was removed."),
    "car.specs": ("Tekniset tiedot", "Specifications"),
    "car.equipment": ("Varusteet", "Equipment"),
    "car.description": ("Kuvaus", "Description"),
    "car.gallery": ("Kuvat", "Photos"),
    "car.image_n": ("Kuva {n} / {total}", "Photo {n} of {total}"),
    "car.prev_image": ("Edellinen kuva", "Previous photo"),
    "car.next_image": ("Seuraava kuva", "Next photo"),
    "car.price": ("Hinta", "Price"),
    "car.monthly": ("Rahoitusesimerkki", "Financing example"),
    "car.monthly_value": ("alk. {amount} /kk", "from {amount} /month"),
    "car.monthly_terms": (
        "{months} kk, käsiraha {down} ({down_pct} %), korko {rate} %, avausmaksu {fee}, käsittelymaksu {monthly_fee}/kk. "
        "Esimerkki, ei sitova tarjous.",
        "{months} months, down payment {down} ({down_pct} %), interest {rate} %, opening fee {fee}, "
        "{monthly_fee}/month handling fee. An example, not a binding offer.",
    ),
    "car.contact_cta": ("Kysy tästä autosta", "Ask about this car"),
    "car.contact_text": ("Soita {phone} tai lähetä viesti – vastaamme aukioloaikoina nopeasti.",
                         "Call {phone} or send a message – we answer quickly during opening hours."),
    "car.related": ("Samankaltaisia autoja", "Similar cars"),
    "car.sold_note": ("Tämä auto on myyty. Katso samankaltaiset autot alta.",
                      "This car has been sold. See similar cars below."),
    "car.reserved_note": ("Tämä auto on varattu.", "This car is reserved."),
    "car.price_drop": ("Hinta laskenut {amount}", "Price reduced by {amount}"),
    "car.back": ("Takaisin hakutuloksiin", "Back to results"),
    "spec.year": ("Vuosimalli", "Model year"),
    "spec.first_registration": ("Ensirekisteröinti", "First registered"),
    "spec.mileage": ("Mittarilukema", "Mileage"),
    "spec.fuel": ("Käyttövoima", "Fuel"),
    "spec.transmission": ("Vaihteisto", "Transmission"),
    "spec.drive": ("Vetotapa", "Drive"),
    "spec.body_type": ("Korityyppi", "Body type"),
    "spec.power": ("Teho", "Power"),
    "spec.displacement": ("Iskutilavuus", "Displacement"),
    "spec.colour": ("Väri", "Colour"),
    "spec.doors": ("Ovet", "Doors"),
    "spec.seats": ("Istuimet", "Seats"),
    "spec.registration": ("Rekisterinumero", "Registration"),
    "spec.vin": ("Valmistenumero (VIN)", "VIN"),
    "spec.taxation": ("Verotus", "Taxation"),
    "error.title": ("Virhe", "Error"),
    "error.400": ("Pyyntöä ei voitu käsitellä", "The request could not be handled"),
    "error.404": ("Sivua ei löytynyt", "Page not found"),
    "error.404_car": ("Autoa ei löytynyt. Se on ehkä poistettu tai osoite on väärin.",
                      "The car was not found. It may have been removed or the address is wrong."),
    "error.410": ("Ilmoitus on poistettu", "This listing has been removed"),
    "error.410_text": ("Auto ei ole enää myynnissä. Katso muut automme.",
                       "This car is no longer for sale. See our other cars."),
    "error.500": ("Jokin meni pieleen", "Something went wrong"),
    "error.500_text": ("Yritä hetken päästä uudelleen. Virhe on kirjattu tunnuksella {id}.",
                       "Please try again shortly. The error was logged with id {id}."),
    "error.back_home": ("Etusivulle", "Go to home page"),
    "error.to_cars": ("Kaikki autot", "All cars"),
    "footer.rights": ("Kaikki oikeudet pidätetään.", "All rights reserved."),
    "footer.placeholder_images": ("Kuvat ovat havainnekuvia.", "Photos are illustrations."),
    "weekday.0": ("Ma", "Mon"), "weekday.1": ("Ti", "Tue"), "weekday.2": ("Ke", "Wed"),
    "weekday.3": ("To", "Thu"), "weekday.4": ("Pe", "Fri"), "weekday.5": ("La", "Sat"), "weekday.6": ("Su", "Sun"),
}

VOCABULARY: dict[str, dict[str, tuple[str, str]]] = {
    "fuel": {
        "petrol": ("Bensiini", "Petrol"), "diesel": ("Diesel", "Diesel"), "hybrid": ("Hybridi", "Hybrid"),
        "plug_in_hybrid": ("Lataushybridi", "Plug-in hybrid"), "electric": ("Sähkö", "Electric"),
        "gas": ("Kaasu", "Gas"),
    },
    "transmission": {"manual": ("Manuaali", "Manual"), "automatic": ("Automaatti", "Automatic")},
    "drive": {"fwd": ("Etuveto", "Front-wheel drive"), "rwd": ("Takaveto", "Rear-wheel drive"),
              "awd": ("Neliveto", "All-wheel drive")},
    "body_type": {
        "hatchback": ("Viistoperä", "Hatchback"), "sedan": ("Sedan", "Sedan"), "estate": ("Farmari", "Estate"),
        "suv": ("Maasturi / SUV", "SUV"), "mpv": ("Tila-auto", "MPV"), "coupe": ("Coupé", "Coupé"),
        "convertible": ("Avoauto", "Convertible"), "van": ("Pakettiauto", "Van"), "pickup": ("Avolava", "Pickup"),
    },
    "status": {"draft": ("Luonnos", "Draft"), "available": ("Myynnissä", "For sale"),
               "reserved": ("Varattu", "Reserved"), "sold": ("Myyty", "Sold")},
}


def normalize_language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def translate(lang: str, key: str, **params: object) -> str:
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**params) if params else text


def label(lang: str, vocabulary: str, value: str | None) -> str:
    if value is None:
        return ""
    pair = VOCABULARY.get(vocabulary, {}).get(value)
    if pair is None:
        return value
    return pair[1] if lang == "en" else pair[0]
